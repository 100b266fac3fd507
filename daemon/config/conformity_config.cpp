// Validation of the lab's conformity testing: test methods (each checked by
// conformity::CheckTestMethod, and each (id, version) once), the instrument kinds their
// steps need, the signatories' methods, the review policy and the support lines. A
// method no instrument of the lab can run would fail only when a technician starts it.
#include <map>
#include <set>

#include "config/lab_config.h"
#include "config/locator.h"
#include "conformity/review_rules.h"

namespace labtrace::config {

Status ValidateConformity(const Lab& lab, const Locator& at) {
  std::set<std::string> kinds, method_ids;
  for (const Instrument& instrument : lab.instruments()) {
    if (!instrument.kind().empty()) kinds.insert(instrument.kind());
  }
  std::map<std::pair<std::string, uint32_t>, int> seen;
  for (int i = 0; i < lab.test_methods_size(); ++i) {
    const TestMethod& method = lab.test_methods(i);
    if (Status checked = conformity::CheckTestMethod(method); !checked.ok()) {
      return Invalid(at.At({{"test_methods", i}}), checked.message());
    }
    if (auto [it, fresh] = seen.emplace(std::pair{method.id(), method.version()}, i); !fresh) {
      return Invalid(at.At({{"test_methods", i}, {"version"}}),
                     fmt::format("{} version {} is already test_methods[{}]; a changed method is a new version",
                                 method.id(), method.version(), it->second));
    }
    method_ids.insert(method.id());
    for (int s = 0; s < method.steps_size(); ++s) {
      if (!kinds.count(method.steps(s).instrument_kind())) {
        return Invalid(at.At({{"test_methods", i}, {"steps", s}, {"instrument_kind"}}),
                       fmt::format("no instrument of this lab has kind: \"{}\"; give it to the instrument this step is "
                                   "read on",
                                   method.steps(s).instrument_kind()));
      }
    }
  }
  if (lab.review().required_signatures() > 2) {
    return Invalid(at.At({{"review"}, {"required_signatures"}}), "a run takes 1 or 2 signatures (0 means 2)");
  }
  for (int i = 0; i < lab.signatories_size(); ++i) {
    const Signatory& signatory = lab.signatories(i);
    if (signatory.user().empty()) return Invalid(at.At({{"signatories", i}, {"user"}}), "user is missing");
    for (int m = 0; m < signatory.methods_size(); ++m) {
      if (!method_ids.count(signatory.methods(m))) {
        return Invalid(at.At({{"signatories", i}, {"methods", m}}),
                       fmt::format("no test method has the id \"{}\"", signatory.methods(m)));
      }
    }
  }
  for (int i = 0; i < lab.support_lines_size(); ++i) {
    const SupportLine& line = lab.support_lines(i);
    if (line.id().empty()) return Invalid(at.At({{"support_lines", i}, {"id"}}), "id is missing");
    if (!(line.share() > 0 && line.share() <= 1)) {
      return Invalid(at.At({{"support_lines", i}, {"share"}}),
                     fmt::format("share {} is not a fraction in (0, 1]: 30 % is 0.30", line.share()));
    }
  }
  return OkStatus();
}

}  // namespace labtrace::config
