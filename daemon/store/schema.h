// The store's schema and its migrations. Only the store includes this.
#pragma once

#include "store/sqlite.h"

namespace labtrace::store {

// Brings the database up to the schema this code knows, one migration per transaction.
// A database newer than the code is refused.
Status Migrate(Database& db);

// PRAGMAs for a connection that writes. `synchronous_off` exists only for the power-loss
// test's negative control.
Status ConfigureWriter(Database& db, bool exclusive_locking, bool synchronous_off);

}  // namespace labtrace::store
