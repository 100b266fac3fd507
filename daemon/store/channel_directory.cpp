#include "store/channel_directory.h"

#include <algorithm>
#include <charconv>

namespace labtrace::store {

namespace {

constexpr const char* kInsertChannel =
    "INSERT INTO channels (instrument, channel) VALUES (?, ?) "
    "ON CONFLICT (instrument, channel) DO NOTHING";
constexpr const char* kSelectChannelId = "SELECT channel_id FROM channels WHERE instrument = ? AND channel = ?";
constexpr const char* kSelectChannelSet = "SELECT set_id FROM channel_sets WHERE channel_ids = ?";
constexpr const char* kInsertChannelSet = "INSERT INTO channel_sets (channel_ids) VALUES (?)";
constexpr const char* kInsertChannelSetMember = "INSERT INTO channel_set_members (channel_id, set_id) VALUES (?, ?)";

// Looks `key` up among the committed entries, then the batch's own.
const int64_t* Find(const std::unordered_map<std::string, int64_t>& committed,
                    const std::unordered_map<std::string, int64_t>& created, const std::string& key) {
  if (auto found = committed.find(key); found != committed.end()) return &found->second;
  if (auto found = created.find(key); found != created.end()) return &found->second;
  return nullptr;
}

}  // namespace

ChannelDirectory::LastRun& ChannelDirectory::RunOf(const std::string& instrument) {
  auto [entry, added] = last_runs_.try_emplace(instrument);
  run_instrument_ = &entry->first;
  run_ = &entry->second;
  return *run_;
}

Result<int64_t> ChannelDirectory::ChannelId(const std::string& instrument, const std::string& channel, size_t place) {
  LastRun& run = (run_ == nullptr || place == 0 || *run_instrument_ != instrument) ? RunOf(instrument) : *run_;
  if (place < run.channels.size() && run.channels[place] == channel) return run.channel_ids[place];
  auto id = FindOrCreateChannel(instrument, channel);
  if (!id) return id;
  if (place >= run.channels.size()) {
    run.channels.resize(place + 1);
    run.channel_ids.resize(place + 1);
  }
  run.channels[place] = channel;
  run.channel_ids[place] = *id;
  return id;
}

Result<int64_t> ChannelDirectory::FindOrCreateChannel(const std::string& instrument, const std::string& channel) {
  // Length-prefixed, so no two (instrument, channel) pairs share a key whatever bytes an
  // upload's names hold.
  char length[20];
  key_.assign(length, std::to_chars(length, length + sizeof length, instrument.size()).ptr);
  key_ += ':';
  key_ += instrument;
  key_ += channel;
  if (const int64_t* id = Find(channels_, new_channels_, key_)) return *id;
  auto insert = db_->Cached(kInsertChannel);
  if (!insert) return Error(insert.error());
  (*insert)->BindText(1, instrument);
  (*insert)->BindText(2, channel);
  if (Status s = (*insert)->Run(); !s.ok()) return Error(s);
  auto select = db_->Cached(kSelectChannelId);
  if (!select) return Error(select.error());
  (*select)->BindText(1, instrument);
  (*select)->BindText(2, channel);
  auto row = (*select)->Step();
  if (!row) return Error(row.error());
  if (!*row) return Error(Internal("a channel just inserted is not found"));
  const int64_t id = (*select)->ColumnInt64(0);
  new_channels_.emplace(key_, id);
  return id;
}

Result<int64_t> ChannelDirectory::SetId(const std::string& instrument, std::span<const int64_t> channel_ids) {
  LastRun& run = RunOf(instrument);
  if (run.set_id != 0 && std::equal(channel_ids.begin(), channel_ids.end(), run.set_of.begin(), run.set_of.end())) {
    return run.set_id;
  }
  auto id = FindOrCreateSet(channel_ids);
  if (!id) return id;
  run.set_of.assign(channel_ids.begin(), channel_ids.end());
  run.set_id = *id;
  return id;
}

Result<int64_t> ChannelDirectory::FindOrCreateSet(std::span<const int64_t> channel_ids) {
  set_members_.assign(channel_ids.begin(), channel_ids.end());
  std::sort(set_members_.begin(), set_members_.end());
  set_members_.erase(std::unique(set_members_.begin(), set_members_.end()), set_members_.end());
  key_.clear();
  for (int64_t id : set_members_) {
    if (!key_.empty()) key_ += ',';
    char digits[20];
    key_.append(digits, std::to_chars(digits, digits + sizeof digits, id).ptr);
  }
  if (const int64_t* id = Find(sets_, new_sets_, key_)) return *id;
  int64_t id = 0;
  {
    auto select = db_->Cached(kSelectChannelSet);
    if (!select) return Error(select.error());
    (*select)->BindText(1, key_);
    auto row = (*select)->Step();
    if (!row) return Error(row.error());
    if (*row) id = (*select)->ColumnInt64(0);
  }
  if (id == 0) {
    auto insert_set = db_->Cached(kInsertChannelSet);
    auto insert_member = db_->Cached(kInsertChannelSetMember);
    if (!insert_set) return Error(insert_set.error());
    if (!insert_member) return Error(insert_member.error());
    (*insert_set)->BindText(1, key_);
    if (Status s = (*insert_set)->Run(); !s.ok()) return Error(s);
    id = db_->LastInsertRowId();
    for (int64_t channel : set_members_) {
      (*insert_member)->BindInt64(1, channel);
      (*insert_member)->BindInt64(2, id);
      if (Status s = (*insert_member)->Run(); !s.ok()) return Error(s);
    }
  }
  new_sets_.emplace(key_, id);
  return id;
}

void ChannelDirectory::Committed() {
  channels_.merge(new_channels_);
  sets_.merge(new_sets_);
  new_channels_.clear();  // merge leaves only keys already present: none
  new_sets_.clear();
}

void ChannelDirectory::Clear() {
  channels_.clear();
  sets_.clear();
  Forget();
}

void ChannelDirectory::Forget() {
  new_channels_.clear();
  new_sets_.clear();
  last_runs_.clear();
  run_ = nullptr;
  run_instrument_ = nullptr;
}

}  // namespace labtrace::store
