// Merging config trees with OmegaConf's rules, plus per-key list merging.
//
// merge(dst, src): maps merge recursively, key by key, keeping dst's key
// order and appending new keys; any other src value replaces dst's, except
// that a Missing (???) src value leaves dst as it is. Merging a map into a
// list or a list into a map is an error naming the key and both sources.
// Lists replace by default; when the incoming list carries a merge tag, or
// the existing key was declared with one, lists are appended, prepended or
// merged element by element instead (see ListMerge).
#pragma once

#include "kiln/config/node.h"

namespace kiln::config {

// Merges src into dst in place. `path` is dst's position, for error messages.
// Throws ConfigError.
void merge_into(Node& dst, const Node& src, const KeyPath& path = {});

// Returns a copy of dst with src merged into it.
Node merged(Node dst, const Node& src);

}  // namespace kiln::config
