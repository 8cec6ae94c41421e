// SHA-256 of a byte string, as lowercase hex: the content hash that names uploaded models ("blk-<hash>") and keys
// the server's upload cache. Small and self-contained so the server and client need no crypto library of their own.
#pragma once

#include <string>
#include <string_view>

namespace deepx::serve {

std::string Sha256Hex(std::string_view data);

}  // namespace deepx::serve
