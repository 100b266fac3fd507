// RFC 6962 / RFC 9162 vectors as published with the Certificate Transparency and
// transparency-dev/merkle test data (transparency-dev/merkle testonly/constants.go and
// proof/verify_test.go; google/certificate-transparency cpp/merkletree/merkle_tree_test.cc),
// and RFC 8032 §7.1 Ed25519 tests 1–3.
#include <sodium.h>

#include <gtest/gtest.h>

#include "store/merkle.h"
#include "store/signing_key.h"

namespace labtrace::store {
namespace {

std::vector<uint8_t> Unhex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

Hash H(std::string_view hex) { return *HashFromHex(hex); }

const char* kLeafInputs[] = {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                             "606162636465666768696a6b6c6d6e6f"};
const char* kRoots[] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};
const char* kLeafHashes[] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
};

std::vector<Hash> Leaves() {
  std::vector<Hash> leaves;
  for (const char* input : kLeafInputs) leaves.push_back(LeafHash(Unhex(input)));
  return leaves;
}

TEST(Merkle, LeafHashesAndEmptyTree) {
  EXPECT_EQ(ToHex(EmptyTreeHash()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const auto leaves = Leaves();
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(ToHex(leaves[i]), kLeafHashes[i]) << "leaf " << i;
}

TEST(Merkle, RootsOfEverySizeOneToEight) {
  const auto leaves = Leaves();
  CompactTree compact;
  for (size_t n = 1; n <= 8; ++n) {
    compact.Append(leaves[n - 1]);
    EXPECT_EQ(ToHex(RootOf(std::span(leaves).first(n))), kRoots[n - 1]) << "size " << n;
    EXPECT_EQ(ToHex(compact.Root()), kRoots[n - 1]) << "compact, size " << n;
  }
}

struct InclusionVector {
  uint64_t index, size;
  std::vector<const char*> path;
};

TEST(Merkle, PublishedInclusionProofs) {
  const auto leaves = Leaves();
  const InclusionVector vectors[] = {
      {0, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5, 8, {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1, 5, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
      {0, 1, {}},
  };
  for (const auto& v : vectors) {
    SCOPED_TRACE(::testing::Message() << "leaf " << v.index << " of " << v.size);
    std::vector<Hash> expected;
    for (const char* h : v.path) expected.push_back(H(h));
    auto proof = InclusionProof(v.index, std::span(leaves).first(v.size));
    ASSERT_TRUE(proof.has_value());
    EXPECT_EQ(*proof, expected);
    const Hash root = H(kRoots[v.size - 1]);
    EXPECT_TRUE(VerifyInclusion(v.index, v.size, leaves[v.index], expected, root));
    // The same proof must not verify another leaf, another index or another root.
    EXPECT_FALSE(VerifyInclusion(v.index, v.size, leaves[(v.index + 1) % 8], expected, root));
    if (v.size > 1) EXPECT_FALSE(VerifyInclusion((v.index + 1) % v.size, v.size, leaves[v.index], expected, root));
    EXPECT_FALSE(VerifyInclusion(v.index, v.size, leaves[v.index], expected, H(kRoots[v.size % 8])));
  }
}

struct ConsistencyVector {
  uint64_t old_size, new_size;
  std::vector<const char*> proof;
};

TEST(Merkle, PublishedConsistencyProofs) {
  const auto leaves = Leaves();
  const ConsistencyVector vectors[] = {
      {1, 1, {}},
      {1, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6, 8, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 5, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
      {6, 7, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
              "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
  };
  for (const auto& v : vectors) {
    SCOPED_TRACE(::testing::Message() << v.old_size << " → " << v.new_size);
    std::vector<Hash> expected;
    for (const char* h : v.proof) expected.push_back(H(h));
    auto proof = ConsistencyProof(v.old_size, std::span(leaves).first(v.new_size));
    ASSERT_TRUE(proof.has_value());
    EXPECT_EQ(*proof, expected);
    const Hash old_root = H(kRoots[v.old_size - 1]), new_root = H(kRoots[v.new_size - 1]);
    EXPECT_TRUE(VerifyConsistency(v.old_size, v.new_size, old_root, new_root, expected));
    if (v.old_size != v.new_size) {
      EXPECT_FALSE(VerifyConsistency(v.old_size, v.new_size, new_root, old_root, expected));
      auto broken = expected;
      broken.back()[0] ^= 1;
      EXPECT_FALSE(VerifyConsistency(v.old_size, v.new_size, old_root, new_root, broken));
    }
  }
}

TEST(Merkle, EveryProofOfAnOddTreeVerifies) {
  std::vector<Hash> leaves;
  for (int i = 0; i < 37; ++i) leaves.push_back(LeafHash(std::vector<uint8_t>{static_cast<uint8_t>(i)}));
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const auto d = std::span(leaves).first(n);
    const Hash root = RootOf(d);
    for (uint64_t i = 0; i < n; ++i) ASSERT_TRUE(VerifyInclusion(i, n, leaves[i], *InclusionProof(i, d), root));
    for (uint64_t m = 1; m <= n; ++m) {
      ASSERT_TRUE(VerifyConsistency(m, n, RootOf(d.first(m)), root, *ConsistencyProof(m, d))) << m << "→" << n;
    }
  }
}

TEST(Merkle, CompactTreeResumesFromItsSubtrees) {
  const auto leaves = Leaves();
  CompactTree first;
  for (int i = 0; i < 5; ++i) first.Append(leaves[i]);
  auto resumed = CompactTree::FromSubtrees(5, first.subtrees());
  ASSERT_TRUE(resumed.has_value());
  for (int i = 5; i < 8; ++i) resumed->Append(leaves[i]);
  EXPECT_EQ(ToHex(resumed->Root()), kRoots[7]);
  EXPECT_FALSE(CompactTree::FromSubtrees(4, first.subtrees()).has_value());  // 4 has one subtree, 5 has two
}

struct Ed25519Vector {
  const char *seed, *public_key, *message, *signature;
};

TEST(Ed25519, Rfc8032Section7_1) {
  const Ed25519Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
      {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
       "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
       "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
  };
  ASSERT_GE(sodium_init(), 0);
  for (const auto& v : vectors) {
    std::array<uint8_t, 32> seed;
    const auto seed_bytes = Unhex(v.seed);
    std::copy(seed_bytes.begin(), seed_bytes.end(), seed.begin());
    const SigningKey key = SigningKey::FromSeed(seed);
    EXPECT_EQ(std::vector<uint8_t>(key.public_key().begin(), key.public_key().end()), Unhex(v.public_key));
    const auto message = Unhex(v.message);
    const std::string signature = key.Sign(std::string_view(reinterpret_cast<const char*>(message.data()), message.size()));
    EXPECT_EQ(std::vector<uint8_t>(signature.begin(), signature.end()), Unhex(v.signature));
  }
}

TEST(Checkpoint, SignedTextRoundTripsThroughItsFile) {
  ASSERT_GE(sodium_init(), 0);
  std::array<uint8_t, 32> seed{};
  seed[0] = 7;
  const SigningKey key = SigningKey::FromSeed(seed);
  Checkpoint c;
  c.set_tree_size(8);
  c.set_root_hash(std::string(reinterpret_cast<const char*>(H(kRoots[7]).data()), 32));
  c.set_time_ns(1795590001000000000);
  c.set_public_key(std::string(key.public_key().begin(), key.public_key().end()));
  c.set_signature(key.Sign(CheckpointText(c)));
  EXPECT_EQ(CheckpointText(c), std::string("labtrace checkpoint v1\n8\n") + kRoots[7] + "\n1795590001000000000\n");
  EXPECT_TRUE(VerifyCheckpointSignature(c));
  auto parsed = ParseCheckpointFile(FormatCheckpointFile(c));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_TRUE(VerifyCheckpointSignature(*parsed));
  parsed->set_tree_size(9);
  EXPECT_FALSE(VerifyCheckpointSignature(*parsed));
}

TEST(Checkpoint, FileWithNumbersNotWrittenAsLabtraceWritesThemIsRefused) {
  Checkpoint c;
  c.set_tree_size(8);
  c.set_root_hash(std::string(reinterpret_cast<const char*>(H(kRoots[7]).data()), 32));
  c.set_time_ns(-5);  // before 1970, but written canonically: accepted
  c.set_public_key(std::string(32, '\x11'));
  c.set_signature(std::string(64, '\x22'));
  const std::string file = FormatCheckpointFile(c);
  ASSERT_TRUE(ParseCheckpointFile(file).has_value());
  // Line `line` (0-based) of the file replaced by `text`.
  auto with_line = [&file](int line, const std::string& text) {
    std::vector<std::string> lines;
    for (size_t at = 0, next; at < file.size(); at = next + 1) {
      next = file.find('\n', at);
      lines.push_back(file.substr(at, next - at));
    }
    lines[line] = text;
    std::string joined;
    for (const std::string& l : lines) joined += l + "\n";
    return joined;
  };
  for (const char* size : {"-1", "+8", " 8", "8 ", "08", "0x8", "8.0", "", "18446744073709551616"}) {
    auto parsed = ParseCheckpointFile(with_line(1, size));
    EXPECT_FALSE(parsed.has_value()) << "tree size \"" << size << "\" was read as " << parsed->tree_size();
    if (!parsed) {
      EXPECT_NE(parsed.error().message().find("line 2, the tree size"), std::string::npos);
    }
  }
  for (const char* time : {"+5", "--5", "-05", "-0", " -5", "-5\t", "", "9223372036854775808"}) {
    auto parsed = ParseCheckpointFile(with_line(3, time));
    EXPECT_FALSE(parsed.has_value()) << "time \"" << time << "\" was read as " << parsed->time_ns();
    if (!parsed) {
      EXPECT_NE(parsed.error().message().find("line 4, the time"), std::string::npos);
    }
  }
  EXPECT_EQ(ParseCheckpointFile(with_line(1, "0"))->tree_size(), 0u);
  EXPECT_EQ(ParseCheckpointFile(with_line(3, "0"))->time_ns(), 0);
}

}  // namespace
}  // namespace labtrace::store

namespace labtrace::store {
namespace {

TEST(Merkle, ChainHashIsSha256OfPreviousRootAndSize) {
  const Hash previous{}, root = H(kRoots[7]);
  std::vector<uint8_t> joined(previous.begin(), previous.end());
  joined.insert(joined.end(), root.begin(), root.end());
  for (int i = 0; i < 7; ++i) joined.push_back(0);
  joined.push_back(8);
  EXPECT_EQ(ChainHash(previous, root, 8), Sha256(joined));
}

}  // namespace
}  // namespace labtrace::store
