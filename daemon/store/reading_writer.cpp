#include "store/reading_writer.h"

#include <span>

#include "store/reading_row.h"
#include "store/record_bytes.h"

namespace labtrace::store {

namespace {
constexpr const char* kSelectNextSequence = "SELECT COALESCE(MAX(sequence), 0) + 1 FROM readings";
constexpr const char* kSelectProvenance = "SELECT provenance_id FROM provenances WHERE record = ?";
constexpr const char* kInsertProvenance = "INSERT INTO provenances (record) VALUES (?)";
constexpr const char* kInsertRun =
    "INSERT INTO reading_runs (first_sequence, instrument, count, channel_set) VALUES (?, ?, ?, ?)";
bool SameProvenance(const Provenance& a, const Provenance& b) {
  return a.source() == b.source() && a.driver() == b.driver() && a.bus() == b.bus() && a.token_id() == b.token_id() &&
         a.user() == b.user() && a.file_sha256() == b.file_sha256() && a.file_name() == b.file_name();
}
}  // namespace

Result<ReadingWriter> ReadingWriter::Start(Database& db, ChannelDirectory& channels, CompactTree& tree) {
  auto next = db.Cached(kSelectNextSequence);
  if (!next) return Error(next.error());
  if (auto row = (*next)->Step(); !row) return Error(row.error());
  return ReadingWriter(db, channels, tree, (*next)->ColumnInt64(0));
}

Status ReadingWriter::Add(Reading& reading) {
  const bool same_instrument = !runs_.empty() && runs_.back().instrument == reading.instrument();
  auto channel = channels_->ChannelId(reading.instrument(), reading.channel(),
                                      same_instrument ? static_cast<size_t>(runs_.back().count) : 0);
  if (!channel) return channel.error();
  auto provenance = ProvenanceId(reading);
  if (!provenance) return provenance.error();
  Canonicalize(reading);
  const int64_t sequence = next_sequence_++;
  reading.set_sequence(static_cast<uint64_t>(sequence));
  if (same_instrument) {
    ++runs_.back().count;
  } else {
    runs_.push_back({reading.instrument(), sequence, 1, run_channels_.size()});
  }
  run_channels_.push_back(*channel);
  ReadingRecordBytes(reading, record_bytes_);
  const Hash leaf = LeafHash({reinterpret_cast<const uint8_t*>(record_bytes_.data()), record_bytes_.size()});
  tree_->Append(leaf);
  leaves_.push_back(leaf);
  queued_.push_back({*channel, *provenance, &reading});
  return queued_.size() == kRowsPerInsert ? Flush() : OkStatus();
}

Result<int64_t> ReadingWriter::ProvenanceId(const Reading& reading) {
  if (!reading.has_provenance()) return 0;
  const Provenance& provenance = reading.provenance();
  if (last_provenance_id_ != 0 && SameProvenance(provenance, last_provenance_)) return last_provenance_id_;
  provenance_bytes_.resize(provenance.ByteSizeLong());
  provenance.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(provenance_bytes_.data()));
  int64_t id = 0;
  if (auto known = provenance_ids_.find(provenance_bytes_); known != provenance_ids_.end()) {
    id = known->second;
  } else {
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(provenance_bytes_.data()),
                                         provenance_bytes_.size());
    auto select = db_->Cached(kSelectProvenance);
    if (!select) return Error(select.error());
    (*select)->BindBlob(1, bytes);
    auto row = (*select)->Step();
    if (!row) return Error(row.error());
    if (*row) {
      id = (*select)->ColumnInt64(0);
    } else {
      auto insert = db_->Cached(kInsertProvenance);
      if (!insert) return Error(insert.error());
      (*insert)->BindBlob(1, bytes);
      if (Status s = (*insert)->Run(); !s.ok()) return Error(s);
      id = db_->LastInsertRowId();
    }
    provenance_ids_.emplace(provenance_bytes_, id);
  }
  last_provenance_ = provenance;
  last_provenance_id_ = id;
  return id;
}

Status ReadingWriter::Flush() {
  if (queued_.empty()) return OkStatus();
  std::optional<CachedStatement>& insert = inserts_[queued_.size()];
  if (!insert) {
    static const std::array<std::string, kRowsPerInsert + 1> kInsertSql = [] {
      std::array<std::string, kRowsPerInsert + 1> sql;
      for (size_t rows = 1; rows <= kRowsPerInsert; ++rows) sql[rows] = ReadingInsertSql(rows);
      return sql;
    }();
    auto cached = db_->Cached(kInsertSql[queued_.size()]);
    if (!cached) return cached.error();
    insert.emplace(std::move(*cached));
  }
  for (size_t row = 0; row < queued_.size(); ++row) {
    BindReading(**insert, row, queued_[row].channel_id, queued_[row].provenance_id, *queued_[row].reading);
  }
  queued_.clear();
  return (*insert)->Run();
}

Status ReadingWriter::Finish() {
  if (Status s = Flush(); !s.ok()) return s;
  if (runs_.empty()) return OkStatus();
  auto insert_run = db_->Cached(kInsertRun);
  if (!insert_run) return insert_run.error();
  for (const Run& run : runs_) {
    auto set = channels_->SetId(run.instrument,
                                std::span(run_channels_).subspan(run.first_channel, static_cast<size_t>(run.count)));
    if (!set) return set.error();
    (*insert_run)->BindInt64(1, run.first_sequence);
    (*insert_run)->BindTextUncopied(2, run.instrument);
    (*insert_run)->BindInt64(3, run.count);
    (*insert_run)->BindInt64(4, *set);
    if (Status s = (*insert_run)->Run(); !s.ok()) return s;
  }
  return OkStatus();
}

}  // namespace labtrace::store
