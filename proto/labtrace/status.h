// Status and Result<T>: how every part of labtrace reports an expected failure.
//
// Failures that come from the world (a timeout, a CRC error, a bad config line, a full
// disk) are values of these types; a broken invariant is an assert. No exception crosses
// a module boundary. This header lives beside the schemas because, like them, it is the
// vocabulary every part shares.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace labtrace {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the input is wrong: a bad frame, a bad config line
  kNotFound,            // a named thing does not exist
  kAlreadyExists,       // a name is used twice
  kFailedPrecondition,  // the system is not in a state to do this
  kUnavailable,         // the peer is down or did not answer; retrying may help
  kResourceExhausted,   // out of space or capacity: a full disk, a full queue
  kDeadlineExceeded,    // no answer in time
  kDataLoss,            // stored data does not match what was written
  kInternal,            // a bug
  kUnauthenticated,     // no credentials, or credentials that prove nobody: log in again
  kPermissionDenied,    // a known caller whose role or scope does not allow this
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with what was being done: "loading lab.textproto: " + message.
  Status Annotate(std::string_view context) const {
    if (ok()) return *this;
    return Status(code_, std::string(context) + ": " + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }

template <typename T>
using Result = tl::expected<T, Status>;

// Lets `return InvalidArgument("…");` be written in a function returning Result<T>.
inline tl::unexpected<Status> Error(Status status) { return tl::unexpected<Status>(std::move(status)); }

inline std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kAlreadyExists: return "already exists";
    case StatusCode::kFailedPrecondition: return "failed precondition";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kResourceExhausted: return "resource exhausted";
    case StatusCode::kDeadlineExceeded: return "deadline exceeded";
    case StatusCode::kDataLoss: return "data loss";
    case StatusCode::kInternal: return "internal";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kPermissionDenied: return "permission denied";
  }
  return "unknown";
}

}  // namespace labtrace
