#include "report/pdf_printer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace labtrace::report {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The print's own folder (profile, home, font cache, log, the files), removed with it.
class PrintFolder {
 public:
  static Result<PrintFolder> Make(const std::string& parent) {
    std::string base = parent;
    if (base.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
    }
    std::string pattern = base + "/labtrace-print-XXXXXX";
    // Chromium makes its singleton socket at TMPDIR/org.chromium.Chromium.XXXXXX/
    // SingletonSocket, and a Unix socket's path has at most 107 bytes: a longer one
    // aborts it.
    constexpr size_t kSocketPathMax = 107,
                     kSocketSuffix = sizeof "/org.chromium.Chromium.XXXXXX/SingletonSocket" - 1;
    if (pattern.size() + kSocketSuffix > kSocketPathMax) {
      return Error(InvalidArgument(
          fmt::format("{} is too long a path for chromium's socket inside it; print in a "
                      "folder of at most {} characters",
                      base, kSocketPathMax - kSocketSuffix - (pattern.size() - base.size()))));
    }
    if (::mkdtemp(pattern.data()) == nullptr) {
      return Error(Unavailable(
          fmt::format("making a folder for the print in {}: {}", base, std::strerror(errno))));
    }
    return PrintFolder(pattern);
  }
  PrintFolder(PrintFolder&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  PrintFolder(const PrintFolder&) = delete;
  ~PrintFolder() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  explicit PrintFolder(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The last lines chromium logged, without its complaints about the absent session bus,
// for an error message.
std::string LogTail(const std::string& log_path) {
  std::istringstream log(ReadWhole(log_path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(log, line);) {
    if (line.find("dbus") == std::string::npos && !line.empty()) lines.push_back(line);
  }
  const size_t first = lines.size() > 6 ? lines.size() - 6 : 0;
  std::string tail;
  for (size_t i = first; i < lines.size(); ++i) tail += "\n  " + lines[i];
  return tail.empty() ? " (it logged nothing)" : tail;
}

// file:// URL of an absolute path, bytes outside the unreserved set percent-encoded.
std::string FileUrl(const std::string& absolute_path) {
  std::string url = "file://";
  for (const char c : absolute_path) {
    const auto b = static_cast<unsigned char>(c);
    if (std::isalnum(b) || std::string_view("/-._~").find(c) != std::string_view::npos) {
      url += c;
    } else {
      url += fmt::format("%{:02X}", b);
    }
  }
  return url;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

Result<PrintedPdf> Run(const std::string& html_path, const std::string& pdf_path,
                       const PrintFolder& folder, const PdfPrinterOptions& options) {
  if (::access(options.chromium.c_str(), X_OK) != 0) {
    return Error(FailedPrecondition(fmt::format(
        "{} is not there to print the PDF: install Debian's chromium (apt-get install chromium)",
        options.chromium)));
  }
  if (options.fontconfig_file.empty() || ::access(options.fontconfig_file.c_str(), R_OK) != 0) {
    return Error(FailedPrecondition(fmt::format(
        "the report's fontconfig file \"{}\" cannot be read (lab-config/report/fonts.conf)",
        options.fontconfig_file)));
  }
  const std::string& dir = folder.path();
  std::vector<std::string> argv = {
      options.chromium,
      "--headless",
      "--disable-gpu",
      "--no-pdf-header-footer",  // the page's own @page margin boxes are the header and footer
      "--user-data-dir=" + dir + "/profile",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-default-apps",
      "--disable-extensions",
      "--disable-sync",
      "--disable-breakpad",
      // No name resolves and every connection goes to a proxy that is not there.
      "--host-resolver-rules=MAP * ~NOTFOUND",
      "--proxy-server=http://127.0.0.1:9",
      "--proxy-bypass-list=<-loopback>",
      "--run-all-compositor-stages-before-draw",
      "--print-to-pdf=" + pdf_path,
  };
  // Chromium's sandbox refuses to start as root; as any other user it stays on.
  if (::geteuid() == 0) argv.insert(argv.begin() + 1, "--no-sandbox");
  std::error_code error;
  argv.push_back(FileUrl(fs::absolute(html_path, error).string()));
  // A clean environment: nothing of the daemon's reaches chromium but what a print needs.
  std::vector<std::string> env = {
      "PATH=/usr/bin:/bin",
      "HOME=" + dir,
      "TMPDIR=" + dir,
      "XDG_CONFIG_HOME=" + dir + "/config",
      "XDG_CACHE_HOME=" + dir + "/cache",
      "FONTCONFIG_FILE=" + fs::absolute(options.fontconfig_file, error).string(),
      "LANG=C.UTF-8",
  };
  std::vector<char*> argv_pointers = Pointers(argv);
  std::vector<char*> env_pointers = Pointers(env);
  const std::string log_path = dir + "/chromium.log";
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) return Error(Unavailable(fmt::format("{}: {}", log_path, std::strerror(errno))));
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // Whether the child got its own network namespace, written by the child before exec.
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ::close(log_fd);
    ::close(null_fd);
    return Error(Unavailable(fmt::format("pipe: {}", std::strerror(errno))));
  }

  const Clock::time_point started = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(log_fd), ::close(null_fd), ::close(pipe_fds[0]), ::close(pipe_fds[1]);
    return Error(Unavailable(fmt::format("starting chromium: {}", std::strerror(error))));
  }
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec (the daemon has threads).
    ::setpgid(0, 0);  // its own process group, so a kill reaches every chromium process
    // The daemon ignores SIGPIPE and its threads may block signals; chromium gets defaults.
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const char isolated = ::unshare(CLONE_NEWNET) == 0 ? '1' : '0';
    (void)!::write(pipe_fds[1], &isolated, 1);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execve(argv_pointers[0], argv_pointers.data(), env_pointers.data());
    static constexpr char kExecFailed[] = "labtrace: exec of chromium failed\n";
    (void)!::write(STDERR_FILENO, kExecFailed, sizeof kExecFailed - 1);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from this side, so the group exists before any kill
  ::close(log_fd), ::close(null_fd), ::close(pipe_fds[1]);
  char isolated = '0';
  if (::read(pipe_fds[0], &isolated, 1) != 1) isolated = '0';
  ::close(pipe_fds[0]);

  // Waits for the exit, or the deadline, on a pidfd: no polling loop, no signal handler.
  // Through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C", so C++ cannot link it.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  const int pidfd_error = errno;
  bool overran = false;
  if (pidfd >= 0) {
    pollfd exited{pidfd, POLLIN, 0};
    int ready;
    do {
      const auto left = options.timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                              Clock::now() - started);
      ready = ::poll(&exited, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    } while (ready < 0 && errno == EINTR);
    overran = ready == 0;
    ::close(pidfd);
  }
  // The leader is not reaped yet, so its group id cannot have been reused: this reaches
  // every process chromium left behind, and only those.
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  PrintedPdf printed;
  printed.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  printed.own_network_namespace = isolated == '1';

  if (overran) {
    return Error(DeadlineExceeded(
        fmt::format("chromium did not finish printing within {} ms and was killed:{}",
                    options.timeout.count(), LogTail(log_path))));
  }
  if (pidfd < 0) {  // Linux before 5.3: no way to wait with a deadline here
    return Error(Internal(fmt::format("waiting for chromium needs pidfd_open (Linux 5.3): {}",
                                      std::strerror(pidfd_error))));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string how = WIFEXITED(status)
                                ? fmt::format("exited with status {}", WEXITSTATUS(status))
                                : fmt::format("was killed by signal {}", WTERMSIG(status));
    return Error(Internal(
        fmt::format("chromium {} while printing {}:{}", how, html_path, LogTail(log_path))));
  }
  printed.pdf = ReadWhole(pdf_path);
  if (printed.pdf.compare(0, 5, "%PDF-") != 0) {
    return Error(Internal(fmt::format("chromium exited without writing a PDF to {}:{}", pdf_path,
                                      LogTail(log_path))));
  }
  return printed;
}

}  // namespace

Result<PrintedPdf> PrintPdf(std::string_view html, const PdfPrinterOptions& options) {
  auto folder = PrintFolder::Make(options.temp_dir);
  if (!folder) return Error(folder.error());
  const std::string html_path = folder->path() + "/report.html";
  {
    std::ofstream out(html_path, std::ios::binary);
    out.write(html.data(), static_cast<std::streamsize>(html.size()));
    if (!out.flush()) return Error(Unavailable(fmt::format("{}: cannot be written", html_path)));
  }
  return Run(html_path, folder->path() + "/report.pdf", *folder, options);
}

Result<PrintedPdf> PrintHtmlFile(const std::string& html_path, const std::string& pdf_path,
                                 const PdfPrinterOptions& options) {
  auto folder = PrintFolder::Make(options.temp_dir);
  if (!folder) return Error(folder.error());
  std::error_code error;
  return Run(html_path, fs::absolute(pdf_path, error).string(), *folder, options);
}

}  // namespace labtrace::report
