// What the store needs to know of each kind of conformity record (conformity.proto):
// its kind's name, its key and version, the prefix of its number, and the lookup columns
// beside it (its parent, its state). One table, so the writer, the queries and the
// verifier never disagree about a kind.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "labtrace/conformity.pb.h"

namespace labtrace::store {

// "enterprise", "product", "sample", "test_run", "test_report", "dossier", "certificate";
// "" for a record with none set.
std::string_view KindOf(const ConformityRecord& record);
// The record's id or number ("TN-2026-00017"), and its version.
const std::string& KeyOf(const ConformityRecord& record);
uint64_t VersionOf(const ConformityRecord& record);
void SetKeyAndVersion(ConformityRecord& record, const std::string& key, uint64_t version);
// The record it belongs to, for listing: a product's or sample's enterprise, a run's
// sample, a report's sample, a dossier's enterprise, a certificate's dossier.
std::string ParentOf(const ConformityRecord& record);
// The state of this version, for listing by state: "RUN_STATE_DRAFT", "" for kinds with none.
std::string StateOf(const ConformityRecord& record);
// The number a new record of `kind` gets: "TN-2026-00017" for the 17th run of the lab's
// year 2026. Prefixes in the lab's words: DN doanh nghiệp, SP sản phẩm, M mẫu, TN thử
// nghiệm, PKQ phiếu kết quả, HS hồ sơ, GCN giấy chứng nhận.
std::string NumberFor(std::string_view kind, std::string_view year, uint64_t ordinal);
// The prefix of every number of `kind` in `year`, for counting them: "TN-2026-".
std::string NumberPrefix(std::string_view kind, std::string_view year);

}  // namespace labtrace::store
