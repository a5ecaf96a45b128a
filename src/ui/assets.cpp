#include "kiln/ui/assets.h"

namespace kiln::ui {

const Asset* find_asset(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const Asset& asset : embedded_assets())
    if (asset.path == path) return &asset;
  return nullptr;
}

}  // namespace kiln::ui
