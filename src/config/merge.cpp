#include "kiln/config/merge.h"

#include "kiln/config/error.h"

namespace kiln::config {
namespace {

std::string describe(const Node& n) { return std::string(kind_name(n.kind())) + " (" + n.source().str() + ")"; }

void merge_lists(Node& dst, const Node& src, const KeyPath& path) {
  ListMerge mode = src.list_merge() != ListMerge::kDefault ? src.list_merge() : dst.list_merge();
  // The key keeps its declared mode; an explicit tag on the incoming list
  // declares it anew.
  ListMerge keep = src.list_merge() != ListMerge::kDefault ? src.list_merge() : dst.list_merge();
  switch (mode) {
    case ListMerge::kDefault:
    case ListMerge::kReplace: dst = src; break;
    case ListMerge::kAppend:
      for (const auto& item : src.items()) dst.push_back(item);
      break;
    case ListMerge::kPrepend: {
      std::vector<Node> items = src.items();
      for (auto& item : dst.items()) items.push_back(std::move(item));
      dst.items() = std::move(items);
      break;
    }
    case ListMerge::kByIndex:
      for (std::size_t i = 0; i < src.size(); ++i) {
        if (i < dst.size()) {
          KeyPath child = path;
          child.push_back(std::to_string(i));
          merge_into(dst.at(i), src.at(i), child);
        } else {
          dst.push_back(src.at(i));
        }
      }
      break;
  }
  dst.set_list_merge(keep);
}

}  // namespace

void merge_into(Node& dst, const Node& src, const KeyPath& path) {
  // OmegaConf: a MISSING value merged over an existing one (even null)
  // leaves it as it is.
  if (src.is_missing()) return;
  if (dst.is_map() && src.is_map()) {
    for (std::size_t i = 0; i < src.size(); ++i) {
      const std::string& key = src.keys()[i];
      Node* existing = dst.find(key);
      if (existing) {
        KeyPath child = path;
        child.push_back(key);
        merge_into(*existing, src.at(i), child);
      } else {
        dst.set(key, src.at(i));
      }
    }
    dst.set_source(src.source());
    return;
  }
  if (dst.is_list() && src.is_list()) {
    merge_lists(dst, src, path);
    return;
  }
  if ((dst.is_map() && src.is_list()) || (dst.is_list() && src.is_map())) {
    throw ConfigError(Diagnostic{format_key(path), src.source(),
                                 "cannot merge a " + describe(src) + " into a " + describe(dst),
                                 "a map can only be merged into a map and a list into a list; "
                                 "delete the key first (~key) to change its type"});
  }
  ListMerge keep = dst.list_merge();
  dst = src;
  if (dst.is_list() && dst.list_merge() == ListMerge::kDefault) dst.set_list_merge(keep);
}

Node merged(Node dst, const Node& src) {
  merge_into(dst, src);
  return dst;
}

}  // namespace kiln::config
