#include "cli/terminal.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace labtrace::cli {

std::optional<std::string> ReadLine() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::optional<std::string> AskWithoutEcho(const std::string& prompt) {
  termios before{};
  if (::tcgetattr(STDIN_FILENO, &before) != 0) return std::nullopt;
  termios silent = before;
  silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  silent.c_lflag |= ECHONL;
  std::fputs(prompt.c_str(), stderr);
  std::fflush(stderr);
  if (::tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent) != 0) return std::nullopt;
  std::optional<std::string> line = ReadLine();
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &before);
  return line;
}

}  // namespace labtrace::cli
