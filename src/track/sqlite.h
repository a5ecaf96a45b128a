// RAII handles over SQLite's C API for the run store (private to kiln_track).
//
// Every failure throws kiln::IoError with the database path, what was being
// done and SQLite's own message, e.g.
//   run store 'runs/kiln.db': cannot prepare 'SELECT ...': no such table: runs
// SQLITE_BUSY after the busy timeout is such an error too: the store's
// writers wait their turn in SQLite itself (sqlite3_busy_timeout).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/track/run_store.h"

namespace kiln::track::sqlite {

class Database {
 public:
  // Opens (read_only: without creating) the database at `path`.
  Database(const std::string& path, bool read_only);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  // Runs one or more statements without results (DDL, PRAGMA).
  void exec(std::string_view sql);
  // Throws IoError naming `what` and SQLite's last message.
  [[noreturn]] void fail(std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// A prepared statement. bind() indexes start at 1, column() at 0, as in
// SQLite's API.
class Statement {
 public:
  Statement(Database& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, const ParamValue& value);
  Statement& bind_null(int index);
  // Advances to the next row: true while there is one, false when done.
  bool step();
  // Runs a statement that returns no rows.
  void run();
  // For reuse: clears the bindings and rewinds.
  void reset();

  bool is_null(int column) const;
  std::int64_t int64(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  // The column's text without a copy, valid until the next step or reset.
  std::string_view text_view(int column) const;
  // The column with its stored type (INTEGER, REAL, TEXT or NULL).
  ParamValue value(int column) const;

 private:
  Database& db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

// BEGIN IMMEDIATE ... COMMIT; rolled back when destroyed uncommitted (an
// exception). IMMEDIATE takes the write lock up front, so two writers never
// both read and then deadlock upgrading.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

// BEGIN (deferred) ... COMMIT around several reads: they share one snapshot
// of the database and take its locks once, not once per statement (which
// dominates a run table of thousands of small queries). Works on read-only
// connections; never writes. Inside another transaction it does nothing.
class ReadTransaction {
 public:
  explicit ReadTransaction(Database& db);
  ~ReadTransaction();
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Database& db_;
  bool owned_;
};

}  // namespace kiln::track::sqlite
