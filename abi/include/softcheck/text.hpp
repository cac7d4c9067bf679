// Text that came from a plugin or a path, made safe where it leaves
// softcheck. A set's description, version and plugin name, a plugin's path
// and anything a kernel printed are untrusted bytes: they may hold control
// characters (terminal escapes), invalid UTF-8, Markdown or HTML, or shell
// syntax. Every place that writes such text out goes through one of these.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace softcheck::text {

// Valid UTF-8: every byte that is not part of a well-formed sequence (and
// every NUL) becomes the four characters \xNN. Valid input is unchanged.
std::string valid_utf8(std::string_view s);

// One line for a terminal or a log: valid_utf8, then every control
// character (C0 but space, DEL, C1), the bidirectional overrides and
// isolates and the line and paragraph separators shown as \n, \t, \xNN or
// \u202e, so nothing can move the cursor, recolour, hide or reorder text.
// With keep_lines, newlines stay (for a block of several lines).
std::string printable(std::string_view s, bool keep_lines = false);

// printable, then & < > " ' as entities: safe in HTML and XML text and in
// quoted attributes; always well-formed UTF-8 XML 1.0.
std::string html(std::string_view s, bool keep_lines = false);

// printable, then every character Markdown (CommonMark and GitHub's tables)
// gives a meaning escaped: no heading, emphasis, link, image, table cell
// break, code span or raw HTML can start inside it.
std::string markdown(std::string_view s);

// printable text as a Markdown code span: delimited by one backtick more
// than the longest run inside it, so nothing in it ends the span early.
std::string markdown_code(std::string_view s);

// One shell word that a POSIX shell (bash, dash, zsh) reads back as
// exactly `s`: as is when it is plain ([A-Za-z0-9_./:=,+@%-]), else in
// single quotes; bytes a terminal cannot show (controls, invalid UTF-8)
// make it a bash/zsh $'...' word with \xNN escapes instead, so the line
// stays one line that can be pasted.
std::string shell_word(std::string_view s);

// Words joined by spaces, each through shell_word.
std::string shell_line(const std::vector<std::string> &words);

// `s` cut to at most `max_bytes` bytes without splitting a UTF-8 sequence,
// with "..." appended when anything was cut.
std::string truncated(std::string_view s, size_t max_bytes);

} // namespace softcheck::text
