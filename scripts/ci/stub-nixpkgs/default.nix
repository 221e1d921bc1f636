# A stub of nixpkgs for CI machines that cannot fetch the real one (4 GB): the lib functions the
# flake uses (./lib.nix) and, per system, placeholder packages that are real derivations (so a
# current Nix's `nix flake check --no-build` can instantiate every output) but can never build:
# their builder only fails. scripts/ci/verify-nix.sh evaluates the flake against it with
# nix-instantiate; scripts/ci/nix-current.sh passes ./flake.nix as the `nixpkgs` input.
# Each placeholder also carries what verify-nix.sh inspects: `attr` (which package), the
# arguments mkDerivation / mkShell / importNpmLock were called with (drv, shell, npmLockArgs).
let
  lib = import ./lib.nix;
  systems = [
    "aarch64-darwin"
    "aarch64-linux"
    "x86_64-darwin"
    "x86_64-linux"
  ];

  pkgsFor =
    system:
    let
      isLinux = builtins.match ".*-linux" system != null;
      unbuildable =
        name: attrs:
        derivation (
          attrs
          // {
            inherit name system;
            builder = "/bin/sh";
            args = [
              "-c"
              "echo '${name}: a placeholder of the stub nixpkgs (scripts/ci/stub-nixpkgs), never built' >&2; exit 1"
            ];
          }
        );
      stub =
        attr: version:
        unbuildable "${attr}-${version}" { }
        // {
          inherit attr version;
        };
    in
    {
      nodejs_22 = stub "nodejs_22" "22.99.1";
      postgresql_18 = stub "postgresql_18" "18.99";
      redis = stub "redis" "8.99.2";
      docker-client = stub "docker-client" "29.99";
      docker-compose = stub "docker-compose" "2.99";
      git = stub "git" "2.99";
      openssl = stub "openssl" "3.99";
      pgbouncer = stub "pgbouncer" "1.99";
      nixfmt-tree = stub "nixfmt-tree" "1.99";
      autoPatchelfHook =
        if isLinux then stub "autoPatchelfHook" "0" else throw "autoPatchelfHook used on ${system}";
      stdenv = {
        hostPlatform = {
          inherit system isLinux;
          isDarwin = !isLinux;
        };
        cc.cc.lib = if isLinux then stub "gcc-lib" "0" else throw "stdenv.cc.cc.lib used on ${system}";
        mkDerivation = args: unbuildable args.name args // { drv = args; };
      };
      mkShell =
        args:
        unbuildable "nix-shell" (builtins.removeAttrs args [ "packages" ] // { nativeBuildInputs = args.packages; })
        // {
          shell = args;
        };
      importNpmLock = {
        __functor =
          _: args:
          unbuildable "npm-deps" { packageLock = builtins.toJSON args.packageLock; }
          // {
            npmLockArgs = args;
          };
        npmConfigHook = stub "npmConfigHook" "0";
      };
    };
in
{
  inherit lib;
  # More systems than the flake supports: it must pick its own list.
  legacyPackages = lib.genAttrs (
    systems
    ++ [
      "i686-linux"
      "riscv64-linux"
    ]
  ) pkgsFor;
}
