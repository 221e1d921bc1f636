# flake.nix evaluated for x86_64-linux against a stub nixpkgs whose packages are stand-ins on this
# machine (scripts/ci/nix-sandbox.sh makes them): what the check derivations get, so the sandbox
# step runs the flake's own attributes and phases, never a copy of them.
#   root      the checkout (absolute path)
#   standIns  { <attr> = "<folder>"; }: the folder standing in for each package's store path
#   pathsFile JSON list of { path, type } for every tracked file and folder (relative to root)
{
  root,
  standIns,
  pathsFile,
}:
let
  rootPath = /. + root;
  flake = import (rootPath + "/flake.nix");
  system = "x86_64-linux";

  lib = import ../stub-nixpkgs/lib.nix;

  standIn = attr: {
    name = attr;
    version = "stand-in";
    outPath = standIns.${attr};
  };

  # importNpmLock with nixpkgs' meaning (pkgs/build-support/node/import-npm-lock/default.nix):
  # each lock entry with a registry URL becomes "file:<store path of its tarball>", package.json's
  # dependencies point at those, both written with builtins.toJSON (one line, keys sorted). The
  # tarballs' store paths are placeholders: nothing here reads them (node_modules is installed
  # before the sandbox; see nix-sandbox.sh).
  importNpmLock =
    {
      npmRoot,
      package ? lib.importJSON (npmRoot + "/package.json"),
      packageLock ? lib.importJSON (npmRoot + "/package-lock.json"),
    }:
    let
      fetched =
        module:
        if !(module ? resolved) then
          null
        else if builtins.match "https?://.+" module.resolved != null then
          "/nix/store/00000000000000000000000000000000-${baseNameOf module.resolved}"
        else
          throw "nix-sandbox stub: lock entry resolved to ${module.resolved}: only registry URLs are emulated";
      mapLockDependencies = builtins.mapAttrs (
        name: version:
        if version == "latest" || builtins.match "github(.com)?:.+" version != null then
          lock'.packages."node_modules/${name}".version
        else
          version
      );
      lock' = packageLock // {
        packages = builtins.mapAttrs (
          _: module:
          builtins.removeAttrs module [
            "link"
            "funding"
          ]
          // lib.optionalAttrs (fetched module != null) { resolved = "file:${fetched module}"; }
          // lib.optionalAttrs (module ? dependencies) {
            dependencies = mapLockDependencies module.dependencies;
          }
          // lib.optionalAttrs (module ? optionalDependencies) {
            optionalDependencies = mapLockDependencies module.optionalDependencies;
          }
        ) packageLock.packages;
      };
      toStore = builtins.mapAttrs (name: _: lock'.packages."node_modules/${name}".resolved);
      package' =
        package
        // lib.optionalAttrs (package ? dependencies) { dependencies = toStore package.dependencies; }
        // lib.optionalAttrs (package ? devDependencies) {
          devDependencies = toStore package.devDependencies;
        };
    in
    standIn "npmDeps"
    // {
      packageJSON = builtins.toJSON package';
      packageLockJSON = builtins.toJSON lock';
    };

  pkgs = {
    nodejs_22 = standIn "nodejs_22";
    postgresql_18 = standIn "postgresql_18";
    redis = standIn "redis";
    git = standIn "git";
    openssl = standIn "openssl";
    pgbouncer = standIn "pgbouncer";
    autoPatchelfHook = standIn "autoPatchelfHook";
    stdenv = {
      hostPlatform = {
        inherit system;
        isLinux = true;
        isDarwin = false;
      };
      cc.cc.lib = standIn "gcc-lib";
      mkDerivation = args: { drv = args; };
    };
    mkShell = args: { shell = args; };
    importNpmLock = {
      __functor = _: importNpmLock;
      npmConfigHook = standIn "npmConfigHook";
    };
    # The dev shell's and `nix fmt`'s packages: never part of a check.
    docker-client = throw "docker-client is not a check's input";
    docker-compose = throw "docker-compose is not a check's input";
    nixfmt-tree = throw "nixfmt-tree is not a check's input";
  };
  nixpkgs = {
    inherit lib;
    legacyPackages.${system} = pkgs;
  };
  out = flake.outputs {
    self = out;
    inherit nixpkgs;
  };
  checks = builtins.removeAttrs out.checks.${system} [ "devShell" ];

  # A derivation attribute as the builder's environment gets it (Nix's rules).
  envValue =
    v:
    if builtins.isString v then
      v
    else if builtins.isBool v then
      (if v then "1" else "")
    else if builtins.isInt v then
      toString v
    else if v == null then
      ""
    else if builtins.isList v then
      builtins.concatStringsSep " " (map envValue v)
    else if builtins.isAttrs v && v._isLibCleanSourceWith or false then
      "/nix/store/00000000000000000000000000000000-${v.name}"
    else if builtins.isAttrs v && v ? outPath then
      toString v.outPath
    else
      throw "nix-sandbox stub: a derivation attribute of type ${builtins.typeOf v} has no emulation";

  # The source as the flake's filter keeps it: a path is kept when it and every folder above it
  # pass the filter (builtins.path does not descend into a rejected folder).
  paths = builtins.fromJSON (builtins.readFile pathsFile);
  types = builtins.listToAttrs (
    map (p: {
      name = p.path;
      value = p.type;
    }) paths
  );
  source = (builtins.head (builtins.attrValues checks)).drv.src;
  keeps =
    rel:
    let
      parent = dirOf rel;
    in
    source.filter "${root}/${rel}" types.${rel} && (parent == "." || keeps parent);
in
{
  sourceName = source.name;
  sources = map (p: p.path) (builtins.filter (p: p.type != "directory" && keeps p.path) paths);
  npmDeps = {
    inherit ((builtins.head (builtins.attrValues checks)).drv.npmDeps) packageJSON packageLockJSON;
  };
  checks = builtins.mapAttrs (
    _: check:
    builtins.mapAttrs (_: envValue) (
      builtins.removeAttrs check.drv [
        "npmDeps"
      ]
    )
    // {
      npmDeps = toString check.drv.npmDeps.outPath;
    }
  ) checks;
}
