// The run store's schema version and forward migrations (private to kiln_track).
#pragma once

#include "sqlite.h"

namespace kiln::track {

// PRAGMA user_version of the open database.
int read_schema_version(sqlite::Database& db);

// Brings the database to kRunStoreSchemaVersion in one transaction (a new
// file gets the whole schema). Throws IoError naming both versions when the
// store is newer than this build.
void migrate_schema(sqlite::Database& db);

// For read-only opens: throws IoError unless the store is exactly at
// kRunStoreSchemaVersion (older ones must be migrated by a writer first).
void check_schema_version(sqlite::Database& db);

}  // namespace kiln::track
