// Reading what a person types: a line, or a password with echo off.
#pragma once

#include <optional>
#include <string>

namespace labtrace::cli {

// One line from stdin, without its line end; nullopt at end of input.
std::optional<std::string> ReadLine();

// Asks on the terminal with echo off, so the password is neither shown nor left in the
// scrollback; echo comes back whatever happens. nullopt when stdin is not a terminal.
std::optional<std::string> AskWithoutEcho(const std::string& prompt);

}  // namespace labtrace::cli
