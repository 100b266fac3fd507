#include "store/conformity_keys.h"

#include <fmt/format.h>

namespace labtrace::store {

namespace {

struct KindInfo {
  ConformityRecord::RecordCase which;
  std::string_view name, prefix;
  int digits;  // of the ordinal: samples and runs run into thousands a year, dossiers not
};

constexpr KindInfo kKinds[] = {
    {ConformityRecord::kEnterprise, "enterprise", "DN", 4},   {ConformityRecord::kProduct, "product", "SP", 4},
    {ConformityRecord::kSample, "sample", "M", 5},            {ConformityRecord::kTestRun, "test_run", "TN", 5},
    {ConformityRecord::kTestReport, "test_report", "PKQ", 5}, {ConformityRecord::kDossier, "dossier", "HS", 4},
    {ConformityRecord::kCertificate, "certificate", "GCN", 4},
};

const KindInfo* InfoOf(std::string_view kind) {
  for (const KindInfo& info : kKinds) {
    if (info.name == kind) return &info;
  }
  return nullptr;
}

const std::string& Empty() {
  static const std::string empty;
  return empty;
}

}  // namespace

std::string_view KindOf(const ConformityRecord& record) {
  for (const KindInfo& info : kKinds) {
    if (info.which == record.record_case()) return info.name;
  }
  return "";
}

const std::string& KeyOf(const ConformityRecord& record) {
  switch (record.record_case()) {
    case ConformityRecord::kEnterprise: return record.enterprise().id();
    case ConformityRecord::kProduct: return record.product().id();
    case ConformityRecord::kSample: return record.sample().code();
    case ConformityRecord::kTestRun: return record.test_run().id();
    case ConformityRecord::kTestReport: return record.test_report().number();
    case ConformityRecord::kDossier: return record.dossier().id();
    case ConformityRecord::kCertificate: return record.certificate().number();
    case ConformityRecord::RECORD_NOT_SET: break;
  }
  return Empty();
}

uint64_t VersionOf(const ConformityRecord& record) {
  switch (record.record_case()) {
    case ConformityRecord::kEnterprise: return record.enterprise().version();
    case ConformityRecord::kProduct: return record.product().version();
    case ConformityRecord::kSample: return record.sample().version();
    case ConformityRecord::kTestRun: return record.test_run().version();
    case ConformityRecord::kTestReport: return record.test_report().version();
    case ConformityRecord::kDossier: return record.dossier().version();
    case ConformityRecord::kCertificate: return record.certificate().version();
    case ConformityRecord::RECORD_NOT_SET: break;
  }
  return 0;
}

void SetKeyAndVersion(ConformityRecord& record, const std::string& key, uint64_t version) {
  switch (record.record_case()) {
    case ConformityRecord::kEnterprise:
      record.mutable_enterprise()->set_id(key);
      return record.mutable_enterprise()->set_version(version);
    case ConformityRecord::kProduct:
      record.mutable_product()->set_id(key);
      return record.mutable_product()->set_version(version);
    case ConformityRecord::kSample:
      record.mutable_sample()->set_code(key);
      return record.mutable_sample()->set_version(version);
    case ConformityRecord::kTestRun:
      record.mutable_test_run()->set_id(key);
      return record.mutable_test_run()->set_version(version);
    case ConformityRecord::kTestReport:
      record.mutable_test_report()->set_number(key);
      return record.mutable_test_report()->set_version(version);
    case ConformityRecord::kDossier:
      record.mutable_dossier()->set_id(key);
      return record.mutable_dossier()->set_version(version);
    case ConformityRecord::kCertificate:
      record.mutable_certificate()->set_number(key);
      return record.mutable_certificate()->set_version(version);
    case ConformityRecord::RECORD_NOT_SET: break;
  }
}

std::string ParentOf(const ConformityRecord& record) {
  switch (record.record_case()) {
    case ConformityRecord::kProduct: return record.product().enterprise();
    case ConformityRecord::kSample: return record.sample().enterprise();
    case ConformityRecord::kTestRun: return record.test_run().sample();
    case ConformityRecord::kTestReport: return record.test_report().sample().code();
    case ConformityRecord::kDossier: return record.dossier().enterprise();
    case ConformityRecord::kCertificate: return record.certificate().dossier();
    default: return "";
  }
}

std::string StateOf(const ConformityRecord& record) {
  switch (record.record_case()) {
    case ConformityRecord::kTestRun: return RunState_Name(record.test_run().state());
    case ConformityRecord::kTestReport: return ReportState_Name(record.test_report().state());
    case ConformityRecord::kDossier: return DossierState_Name(record.dossier().state());
    default: return "";
  }
}

std::string NumberPrefix(std::string_view kind, std::string_view year) {
  const KindInfo* info = InfoOf(kind);
  return info == nullptr ? std::string() : fmt::format("{}-{}-", info->prefix, year);
}

std::string NumberFor(std::string_view kind, std::string_view year, uint64_t ordinal) {
  const KindInfo* info = InfoOf(kind);
  if (info == nullptr) return "";
  return fmt::format("{}{:0{}}", NumberPrefix(kind, year), ordinal, info->digits);
}

}  // namespace labtrace::store
