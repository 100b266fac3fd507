// The live stream's hub (daemon/api/live_readings.h): each subscriber gets what its
// filter matches, in order, and one that falls behind is cut off, with its queue freed,
// instead of holding the store's writer back.
#include <gtest/gtest.h>

#include "api/live_readings.h"

namespace labtrace::api {
namespace {

Reading Of(const std::string& instrument, const std::string& channel, uint64_t sequence) {
  Reading r;
  r.set_instrument(instrument);
  r.set_channel(channel);
  r.set_sequence(sequence);
  return r;
}

void Publish(LiveReadings& live, const std::vector<Reading>& readings) {
  std::vector<const Reading*> pointers;
  for (const Reading& r : readings) pointers.push_back(&r);
  live.Publish(pointers);
}

TEST(LiveReadings, EachSubscriberGetsWhatItsFilterMatchesInOrder) {
  LiveReadings live;
  int climate_wakes = 0, all_wakes = 0;
  auto climate = live.Subscribe("climate-1", "temperature", [&] { ++climate_wakes; });
  auto all = live.Subscribe("", "", [&] { ++all_wakes; });
  ASSERT_TRUE(climate && all);
  Publish(live, {Of("climate-1", "temperature", 1), Of("climate-1", "humidity", 2), Of("balance", "mass", 3),
                 Of("climate-1", "temperature", 4)});
  Publish(live, {Of("climate-1", "temperature", 5)});
  // Woken once while the queue waits to be taken, not once per commit.
  EXPECT_EQ(climate_wakes, 1);
  EXPECT_EQ(all_wakes, 1);
  bool overflowed = true;
  const auto taken = live.Take(**climate, overflowed);
  EXPECT_FALSE(overflowed);
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(taken[0].sequence(), 1u);
  EXPECT_EQ(taken[1].sequence(), 4u);
  EXPECT_EQ(taken[2].sequence(), 5u);
  EXPECT_EQ(live.Take(**all, overflowed).size(), 5u);
  Publish(live, {Of("climate-1", "temperature", 6)});
  EXPECT_EQ(climate_wakes, 2) << "after a Take, the next reading wakes it again";
}

TEST(LiveReadings, ASubscriberThatFallsBehindIsCutOffNotWaitedFor) {
  LiveReadings live;
  int wakes = 0;
  auto slow = live.Subscribe("", "", [&] { ++wakes; });
  auto keeping_up = live.Subscribe("", "", [] {});
  ASSERT_TRUE(slow && keeping_up);
  std::vector<Reading> commit;
  for (uint64_t i = 1; i <= 1000; ++i) commit.push_back(Of("balance", "mass", i));
  bool overflowed = false;
  for (size_t n = 0; n * commit.size() <= LiveReadings::kQueueLimit; ++n) {
    Publish(live, commit);
    EXPECT_EQ(live.Take(**keeping_up, overflowed).size(), commit.size());
    EXPECT_FALSE(overflowed);
  }
  EXPECT_TRUE((*slow)->overflowed);
  EXPECT_TRUE((*slow)->queued.empty()) << "what it missed is not kept";
  EXPECT_EQ(wakes, 1) << "woken for the first reading; it learns of the overflow when it takes";
  EXPECT_TRUE(live.Take(**slow, overflowed).empty());
  EXPECT_TRUE(overflowed);
  Publish(live, commit);
  EXPECT_TRUE((*slow)->queued.empty()) << "nothing more is queued for a subscriber cut off";
}

TEST(LiveReadings, RefusesMoreStreamsThanItServes) {
  LiveReadings live;
  std::vector<std::shared_ptr<LiveReadings::Subscription>> open;
  for (size_t i = 0; i < LiveReadings::kMaxSubscribers; ++i) {
    auto subscription = live.Subscribe("", "", [] {});
    ASSERT_TRUE(subscription) << i;
    open.push_back(*subscription);
  }
  auto one_more = live.Subscribe("", "", [] {});
  ASSERT_FALSE(one_more);
  EXPECT_NE(one_more.error().message().find("live streams are open"), std::string::npos);
  live.Unsubscribe(open.back());
  EXPECT_TRUE(live.Subscribe("", "", [] {}));
}

}  // namespace
}  // namespace labtrace::api
