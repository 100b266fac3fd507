#include "store/audit_row.h"

namespace labtrace::store {

AuditEvent AuditEventFromRow(const Statement& row) {
  AuditEvent event;
  event.set_sequence(static_cast<uint64_t>(row.ColumnInt64(0)));
  event.set_time_ns(row.ColumnInt64(1));
  event.set_actor(row.ColumnText(2));
  event.set_action(row.ColumnText(3));
  event.set_entity(row.ColumnText(4));
  event.set_old_value(row.ColumnText(5));
  event.set_new_value(row.ColumnText(6));
  event.set_reason(row.ColumnText(7));
  return event;
}

}  // namespace labtrace::store
