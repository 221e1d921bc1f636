# The slice of nixpkgs' lib that flake.nix uses, with nixpkgs' meaning (lib/lists.nix,
# strings.nix, attrsets.nix, sources.nix), for evaluating the flake where nixpkgs cannot be had
# (scripts/ci/verify-nix.sh, nix-sandbox.sh and the current-Nix check). A function missing here
# shows up as "attribute ... missing": add it with nixpkgs' semantics.
rec {
  genAttrs =
    names: f:
    builtins.listToAttrs (
      map (name: {
        inherit name;
        value = f name;
      }) names
    );
  optionals = cond: list: if cond then list else [ ];
  optionalString = cond: s: if cond then s else "";
  optionalAttrs = cond: attrs: if cond then attrs else { };
  toList = x: if builtins.isList x then x else [ x ];
  hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
  hasSuffix =
    p: s:
    let
      n = builtins.stringLength s;
      k = builtins.stringLength p;
    in
    n >= k && builtins.substring (n - k) k s == p;
  last = list: builtins.elemAt list (builtins.length list - 1);
  importJSON = path: builtins.fromJSON (builtins.readFile path);
  inherit (builtins) mapAttrs;
  # lib.sources: version-control folders, editor backups, object files, result links, sockets.
  cleanSourceFilter =
    name: type:
    let
      base = baseNameOf (toString name);
    in
    !(
      base == ".git"
      || (type == "directory" && builtins.elem base [ ".svn" "CVS" ".hg" ".jj" ".pijul" "_darcs" ])
      || hasSuffix "~" base
      || builtins.match "^\\.sw[a-z]$" base != null
      || builtins.match "^\\..*\\.sw[a-z]$" base != null
      || hasSuffix ".o" base
      || hasSuffix ".so" base
      || (type == "symlink" && hasPrefix "result" base)
      || type == "unknown"
    );
  cleanSourceWith =
    {
      src,
      filter ? _: _: true,
      name ? null,
    }:
    let
      inner = src._isLibCleanSourceWith or false;
      origSrc = if inner then src.origSrc else src;
      both = path: type: filter path type && (if inner then src.filter path type else true);
      name' = if name != null then name else if inner then src.name else "source";
    in
    {
      _isLibCleanSourceWith = true;
      inherit origSrc;
      filter = both;
      name = name';
      # The filtered tree, copied into the store when a derivation uses it.
      outPath = builtins.path {
        path = origSrc;
        filter = both;
        name = name';
      };
    };
  cleanSource =
    src:
    cleanSourceWith {
      filter = cleanSourceFilter;
      inherit src;
    };
}
