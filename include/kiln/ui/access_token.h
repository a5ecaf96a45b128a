// Who may talk to the dashboard. On a loopback address only this machine's
// users can connect, so no token is needed; on any other address every
// /api/ request must carry the access token, as `?token=T` or
// `Authorization: Bearer T`.
//
// Thread safety: pure functions (generate_access_token reads getrandom(2)).
#pragma once

#include <string>
#include <string_view>

#include "kiln/ui/http_message.h"

namespace kiln::ui {

// 128 random bits from getrandom(2) as 32 lowercase hex digits. Throws
// kiln::IoError when the kernel has no entropy to give.
std::string generate_access_token();

// True for 127.0.0.0/8, ::1 and "localhost": addresses only this machine
// can reach. Everything else (0.0.0.0, ::, a LAN address) is not.
bool is_loopback_host(std::string_view host);

// True when `request` carries `token` in the query or the Authorization
// header. Compares in constant time, so timing leaks nothing about the token.
bool request_has_token(const HttpRequest& request, std::string_view token);

// The Host header names a loopback address (with or without a port). A
// loopback server without a token refuses other Host headers, so a web page
// on another site cannot read it through DNS rebinding.
bool host_header_is_loopback(const HttpRequest& request);

}  // namespace kiln::ui
