// The dashboard's static files, embedded in the binary at build time
// (src/ui/embed_assets.cmake): index.html, app.js, app.css and the vendored
// uPlot chart library, so `kiln ui` works offline and from any directory.
//
// Thread safety: immutable data.
#pragma once

#include <span>
#include <string_view>

namespace kiln::ui {

struct Asset {
  std::string_view path;          // URL path: "/index.html", "/uPlot.min.css"
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view body;
};

// Every embedded file.
std::span<const Asset> embedded_assets();
// The asset served at `path` ("/" is "/index.html"), or nullptr.
const Asset* find_asset(std::string_view path);

}  // namespace kiln::ui
