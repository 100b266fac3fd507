// The one mapping between an AuditEvent and the audit_events table, used by the store's
// query and by the verifier. A column is added here, once.
#pragma once

#include "labtrace/ledger.pb.h"
#include "store/sqlite.h"

namespace labtrace::store {

#define LABTRACE_AUDIT_COLUMNS "event_id, time_ns, actor, action, entity, old_value, new_value, reason"

// Decodes LABTRACE_AUDIT_COLUMNS starting at column 0.
AuditEvent AuditEventFromRow(const Statement& row);

}  // namespace labtrace::store
