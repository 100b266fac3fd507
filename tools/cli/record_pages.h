// Lists of records asked of the daemon a page at a time (GET /v1/readings, /v1/audit,
// /v1/uploads, /v1/calibrations): the query message written as a query string, and the
// pages followed to the end, so a list has no length limit on the command line.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include <google/protobuf/message.h>

#include "cli/http_client.h"
#include "labtrace/status.h"

namespace labtrace::cli {

// "?instrument=climate-1&since_ns=…": the fields of `query` that are set, percent-encoded;
// "" when none is. The daemon parses it back field by field (api/http_util.h).
std::string QueryString(const google::protobuf::Message& query);

// The message in the API's JSON, on one line (field names as in the .proto).
std::string ToJson(const google::protobuf::Message& message);

// Writes the records of several pages as one JSON answer of the page's type:
// {"events":[…]} for AuditResponse pages, its one repeated field holding every record.
class JsonPages {
 public:
  JsonPages(const google::protobuf::Descriptor& page, std::FILE* out);
  void Add(const google::protobuf::Message& page);
  void Finish();

 private:
  const google::protobuf::FieldDescriptor* list_;
  std::FILE* out_;
  bool first_ = true;
};

// Asks for `path` with `query`, page after page: `print` gets each page; `next` moves
// `query` on to the page after `page` and says whether there is one. Returns the CLI's
// exit code (CallApi's).
template <typename Query, typename Page>
int FollowPages(const std::string& server, const std::string& path, Query query,
                const std::function<bool(const Page& page, Query& query)>& next,
                const std::function<void(const Page& page)>& print) {
  for (;;) {
    Page page;
    if (int code = CallApi(server, path + QueryString(query), nullptr, page); code != 0) return code;
    print(page);
    if (!next(page, query)) return 0;
  }
}

}  // namespace labtrace::cli
