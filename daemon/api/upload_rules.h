// What an upload may claim, decided before the store sees it: only instruments the
// lab-config declares as uploading (driver "upload") may be named, so that a reading the
// daemon is meant to take itself cannot be sent in from outside; and every reading is
// given the provenance of who sent it. Pure: the lab-config and the request in, a verdict
// out. Used by POST /v1/uploads (api_server.cpp) on the io_context.
#pragma once

#include <string_view>

#include "labtrace/api.pb.h"
#include "labtrace/config.pb.h"
#include "labtrace/reading.pb.h"
#include "labtrace/status.h"

namespace labtrace::api {

// Ok when every reading names an uploading instrument of `lab` and the key is the
// sender's to use; otherwise the first reading that does not, with its index, its
// instrument and what to do: InvalidArgument for an instrument the lab does not have or a
// key reserved for result files (result_files::kResultFileKeyPrefix: a sender could
// otherwise make a file look imported before it arrived), FailedPrecondition (409) for one the daemon reads itself.
Status CheckUploadRules(const config::Lab& lab, const UploadRequest& upload);

// The provenance of an upload's readings: UPLOADED, by `user` with token `token_id`.
// Until the API authenticates (issue 14's tokens), the route passes "" for both and the
// user is recorded as "anonymous"; then it passes the caller's user and token_id.
Provenance UploadedBy(std::string_view user, std::string_view token_id);

}  // namespace labtrace::api
