#include <softcheck/text.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace softcheck::text {
namespace {

// The length of the well-formed UTF-8 sequence at s[i] and its code point,
// or 0 when the bytes there are not one (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF).
size_t sequence(std::string_view s, size_t i, uint32_t &cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  size_t n;
  uint32_t min;
  if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void hex_byte(std::string &out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  out += buf;
}

// Code points that change how the rest of a line is shown, or show
// nothing: controls, bidirectional marks, overrides and isolates, line and
// paragraph separators, zero-width and filler characters, tags, and the
// noncharacters (which XML 1.0 does not allow).
bool invisible_control(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0xAD || cp == 0x061C ||
         cp == 0x115F || cp == 0x1160 || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0x3164 ||
         cp == 0xFEFF || cp == 0xFFA0 || (cp >= 0xFDD0 && cp <= 0xFDEF) ||
         (cp & 0xFFFE) == 0xFFFE || (cp >= 0xE0000 && cp <= 0xE007F);
}

// Walks s as UTF-8: `good(piece, cp)` for each well-formed sequence,
// `bad(byte)` for every other byte.
template <class Good, class Bad> void walk(std::string_view s, Good good, Bad bad) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t n = sequence(s, i, cp);
    if (n == 0 || cp == 0) {
      bad(static_cast<unsigned char>(s[i]));
      ++i;
    } else {
      good(s.substr(i, n), cp);
      i += n;
    }
  }
}

bool plain_shell_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_./:=,+@%-").find(c) != std::string_view::npos;
}

} // namespace

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  walk(
      s, [&](std::string_view piece, uint32_t) { out += piece; },
      [&](unsigned char c) { hex_byte(out, c); });
  return out;
}

std::string printable(std::string_view s, bool keep_lines) {
  std::string out;
  out.reserve(s.size());
  walk(
      s,
      [&](std::string_view piece, uint32_t cp) {
        if (!invisible_control(cp) || (keep_lines && cp == '\n')) {
          out += piece;
        } else if (cp == '\n') {
          out += "\\n";
        } else if (cp == '\t') {
          out += "\\t";
        } else if (cp == '\r') {
          out += "\\r";
        } else {
          char buf[16];
          if (cp < 0x80)
            std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(cp));
          else if (cp < 0x10000)
            std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(cp));
          else
            std::snprintf(buf, sizeof buf, "\\U%08x", unsigned(cp));
          out += buf;
        }
      },
      [&](unsigned char c) { hex_byte(out, c); });
  return out;
}

std::string html(std::string_view s, bool keep_lines) {
  std::string out;
  for (char c : printable(s, keep_lines)) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string markdown(std::string_view s) {
  std::string out;
  for (char c : printable(s)) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    // Emphasis, code spans, links and images, table cells, strikethrough,
    // headings, autolinks (the colon of a scheme) and math.
    case '\\':
    case '`':
    case '*':
    case '_':
    case '[':
    case ']':
    case '(':
    case ')':
    case '!':
    case '|':
    case '~':
    case '#':
    case ':':
    case '$':
      out += '\\';
      out += c;
      break;
    default: out += c;
    }
  }
  return out;
}

std::string markdown_code(std::string_view s) {
  const std::string t = printable(s);
  size_t run = 0, longest = 0;
  for (char c : t) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(longest + 1, '`');
  const bool pad = !t.empty() && (t.front() == '`' || t.back() == '`');
  // A table cell ends at '|' even inside a code span (GitHub): escape it.
  std::string body;
  for (char c : t) body += c == '|' ? std::string("\\|") : std::string(1, c);
  return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

std::string shell_word(std::string_view s) {
  // A leading '=' is a command lookup in zsh.
  bool plain = !s.empty() && s[0] != '=', showable = true;
  for (char c : s) plain = plain && plain_shell_char(c);
  if (plain) return std::string(s);
  walk(
      s, [&](std::string_view, uint32_t cp) { showable = showable && !invisible_control(cp); },
      [&](unsigned char) { showable = false; });
  if (showable) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  }
  // ANSI-C quoting: every byte that is not printable ASCII as \xNN.
  std::string q = "$'";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\'' || c == '\\') {
      q += '\\';
      q += c;
    } else if (u < 0x20 || u >= 0x7F) {
      hex_byte(q, u);
    } else {
      q += c;
    }
  }
  return q + "'";
}

std::string shell_line(const std::vector<std::string> &words) {
  std::string out;
  for (const std::string &w : words) {
    if (!out.empty()) out += ' ';
    out += shell_word(w);
  }
  return out;
}

std::string truncated(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t cut = max_bytes;
  // Back up over continuation bytes so no sequence is split.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "...";
}

} // namespace softcheck::text
