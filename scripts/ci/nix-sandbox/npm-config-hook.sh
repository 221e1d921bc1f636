# shellcheck shell=bash
# shellcheck disable=SC2154 # the derivation's attributes and nix-sandbox.sh's variables, exported
# Stand-in for nixpkgs' importNpmLock.npmConfigHook (pkgs/build-support/node/import-npm-lock/
# hooks/npm-config-hook.sh), its steps in its order, as a postConfigure hook. One step is not
# repeated here: `npm install --ignore-scripts` from the tarballs the Nix fetchers put in the store
# (there is no store): nix-sandbox.sh ran `npm ci --ignore-scripts` from the same lock, with
# network, before the sandbox, as the fetchers have network. Its last step, pointing node_modules'
# relative links at the store, has no store to point at.
npmConfigHook() {
  echo "Executing npmConfigHook (stand-in)"
  if [ -n "${npmRoot-}" ]; then pushd "$npmRoot" || exit; fi
  if [ -z "${npmDeps-}" ]; then
    echo "Error: 'npmDeps' should be set when using npmConfigHook."
    exit 1
  fi

  export HOME="$TMPDIR"
  npm config set offline true
  npm config set progress false
  npm config set fund false

  # importNpmLock's rewritten copies in place, the project's own moved aside.
  mv package.json .package.json.orig
  if test -f package-lock.json; then mv package-lock.json .package-lock.json.orig; fi
  cp --no-preserve=mode "$npmDeps/package.json" package.json
  cp --no-preserve=mode "$npmDeps/package-lock.json" package-lock.json

  if [ ! -d node_modules ]; then
    echo "npmConfigHook (stand-in): node_modules was not installed before the sandbox" >&2
    exit 1
  fi
  patchShebangs node_modules
  npm rebuild
  patchShebangs node_modules

  if [ -n "${npmRoot-}" ]; then popd || exit; fi
  echo "Finished npmConfigHook"
}
postConfigureHooks+=(npmConfigHook)
