// The --where / --sort compiler: error messages, the SQL's shape, and its
// meaning, checked by running the compiled SQL against a real in-memory
// SQLite database shaped like the run store.
#include "kiln/track/run_filter.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "kiln/error.h"

namespace kiln::track {
namespace {

using Ids = std::vector<std::string>;

// The run store's tables as far as the filter reads them. As in
// run_store_schema.cpp, params.value and tags.value have no declared type:
// a declared ANY would give them NUMERIC affinity and turn the text "007"
// into the number 7.
constexpr const char* kSchema = R"sql(
CREATE TABLE experiments (id INTEGER PRIMARY KEY, name TEXT UNIQUE, created REAL);
CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', experiment_id INTEGER, status TEXT,
  error TEXT NOT NULL DEFAULT '', start_time REAL, end_time REAL, heartbeat REAL, user TEXT NOT NULL DEFAULT '',
  host TEXT NOT NULL DEFAULT '', pid INTEGER, git_commit TEXT NOT NULL DEFAULT '',
  sweep_id TEXT NOT NULL DEFAULT '', dir TEXT, manifest TEXT);
CREATE TABLE latest_metrics (run_id TEXT, key TEXT, step INTEGER, time REAL, value REAL, min REAL, max REAL,
  count INTEGER, PRIMARY KEY (run_id, key));
CREATE TABLE params (run_id TEXT, key TEXT, type TEXT, value, PRIMARY KEY (run_id, key));
CREATE TABLE tags (run_id TEXT, key TEXT, value, PRIMARY KEY (run_id, key));
)sql";

// Four runs, newest last: r1 and r3 tie on val/acc, r4 has no metrics,
// r3 (running) has no name and no end time.
constexpr const char* kRuns = R"sql(
INSERT INTO experiments VALUES (1, 'mnist', 0), (2, 'cifar', 0);
INSERT INTO runs (id, name, experiment_id, status, error, start_time, end_time, heartbeat, user, host, pid,
                  git_commit, sweep_id, dir, manifest) VALUES
  ('r1', 'alpha', 1, 'FINISHED', '', 100, 200, 200, 'ada', 'h1', 1, 'abc123', '', '/r1', ''),
  ('r2', 'beta', 1, 'FAILED', 'CUDA out of memory', 200, 260, 260, 'ada', 'h1', 2, 'abc123', 's1', '/r2', ''),
  ('r3', '', 2, 'RUNNING', '', 300, NULL, 1300, 'bob', 'h2', 3, '', 's1', '/r3', ''),
  ('r4', 'Alpha2', 2, 'KILLED', 'SIGTERM', 400, 450, 450, 'bob', 'h2', 4, '', '', '/r4', '');
INSERT INTO latest_metrics (run_id, key, step, time, value, min, max, count) VALUES
  ('r1', 'val/acc', 10, 0, 0.95, 0, 0, 1), ('r1', 'train/loss', 10, 0, 0.1, 0, 0, 1),
  ('r1', 'my metric', 10, 0, 1, 0, 0, 1),
  ('r2', 'val/acc', 10, 0, 0.80, 0, 0, 1), ('r2', 'train/loss', 10, 0, 0.5, 0, 0, 1),
  ('r3', 'val/acc', 10, 0, 0.95, 0, 0, 1), ('r3', 'train/loss', 10, 0, 0.3, 0, 0, 1);
INSERT INTO params (run_id, key, type, value) VALUES
  ('r1', 'optimizer.lr', 'float', 0.001), ('r1', 'model._target_', 'string', 'cnn'), ('r1', 'epochs', 'int', 10),
  ('r1', 'amp', 'bool', 1), ('r1', 'seed', 'null', NULL), ('r1', 'code', 'string', '007'),
  ('r1', 'note', 'string', '50% off'),
  ('r2', 'optimizer.lr', 'float', 0.01), ('r2', 'model._target_', 'string', 'mlp'), ('r2', 'epochs', 'int', 5),
  ('r2', 'amp', 'bool', 0),
  ('r3', 'optimizer.lr', 'float', 0.001), ('r3', 'model._target_', 'string', 'cnn'), ('r3', 'epochs', 'int', 20),
  ('r4', 'note', 'string', 'a*b');
INSERT INTO tags (run_id, key, value) VALUES
  ('r1', 'priority', '10'), ('r1', 'note', 'smoke test'),
  ('r2', 'priority', '2'), ('r2', 'note', 'Smoke'),
  ('r3', 'note', 'full run'), ('r3', 'quote', 'it''s'), ('r3', 'path', 'C:\tmp');
)sql";

class RunFilterQuery : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    exec(kSchema);
    exec(kRuns);
  }
  void TearDown() override { sqlite3_close(db_); }

  void exec(const char* sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
    std::string text = message ? message : "";
    sqlite3_free(message);
    ASSERT_EQ(rc, SQLITE_OK) << text;
  }

  // The ids the store's list query returns, in order.
  Ids ids(const std::string& where, const std::string& sort = "id") {
    SqlFragment filter = compile_run_filter(where);
    SqlFragment order = compile_run_sort(sort);
    std::string sql = "SELECT runs.id FROM runs JOIN experiments ON experiments.id = runs.experiment_id WHERE (" +
                      filter.sql + ") ORDER BY " + order.sql + " LIMIT ?";
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db_) << "\n"
                                                                                   << sql;
    std::vector<ParamValue> bindings = filter.bindings;
    bindings.insert(bindings.end(), order.bindings.begin(), order.bindings.end());
    bindings.emplace_back(std::int64_t{-1});
    EXPECT_EQ(sqlite3_bind_parameter_count(stmt), static_cast<int>(bindings.size())) << sql;
    for (std::size_t i = 0; i < bindings.size(); ++i) bind(stmt, static_cast<int>(i) + 1, bindings[i]);
    Ids out;
    while (sqlite3_step(stmt) == SQLITE_ROW)
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    sqlite3_finalize(stmt);
    return out;
  }

  // As the store binds: bools as 0/1.
  static void bind(sqlite3_stmt* stmt, int index, const ParamValue& value) {
    if (auto* b = std::get_if<bool>(&value)) sqlite3_bind_int64(stmt, index, *b ? 1 : 0);
    if (auto* i = std::get_if<std::int64_t>(&value)) sqlite3_bind_int64(stmt, index, *i);
    if (auto* d = std::get_if<double>(&value)) sqlite3_bind_double(stmt, index, *d);
    if (auto* s = std::get_if<std::string>(&value))
      sqlite3_bind_text(stmt, index, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
    if (std::holds_alternative<std::monostate>(value)) sqlite3_bind_null(stmt, index);
  }

  sqlite3* db_ = nullptr;
};

TEST_F(RunFilterQuery, BlankFilterMatchesEveryRun) {
  EXPECT_EQ(ids(""), (Ids{"r1", "r2", "r3", "r4"}));
  EXPECT_EQ(ids("  \t "), (Ids{"r1", "r2", "r3", "r4"}));
}

TEST_F(RunFilterQuery, ComparesLatestMetricValues) {
  EXPECT_EQ(ids("metrics.val/acc > 0.9"), (Ids{"r1", "r3"}));
  EXPECT_EQ(ids("metrics.val/acc >= 0.8"), (Ids{"r1", "r2", "r3"}));
  EXPECT_EQ(ids("metrics.train/loss<0.2"), (Ids{"r1"}));
  EXPECT_EQ(ids("metrics.val/acc == 0.95"), (Ids{"r1", "r3"}));
  EXPECT_EQ(ids("metric.val/acc <> 0.95"), (Ids{"r2"}));  // MLflow's singular prefix
  EXPECT_EQ(ids("metrics.train/loss < metrics.val/acc"), (Ids{"r1", "r2", "r3"}));
}

TEST_F(RunFilterQuery, MissingValuesFailEveryComparisonAndNotInverts) {
  EXPECT_EQ(ids("metrics.val/acc != 0.95"), (Ids{"r2"}));  // r4 has no val/acc
  EXPECT_EQ(ids("metrics.val/acc not in (0.95)"), (Ids{"r2"}));
  EXPECT_EQ(ids("not metrics.val/acc = 0.95"), (Ids{"r2", "r4"}));
  EXPECT_EQ(ids("not metrics.val/acc != 0.95"), (Ids{"r1", "r3", "r4"}));
  EXPECT_EQ(ids("metrics.val/acc is null"), (Ids{"r4"}));
  EXPECT_EQ(ids("metrics.val/acc IS NOT NULL"), (Ids{"r1", "r2", "r3"}));
  EXPECT_EQ(ids("params.epochs != 10"), (Ids{"r2", "r3"}));
  EXPECT_EQ(ids("tags.note not like '%smoke%'"), (Ids{"r2", "r3"}));
}

TEST_F(RunFilterQuery, ParamsKeepTheirTypes) {
  EXPECT_EQ(ids("params.optimizer.lr < 1e-2"), (Ids{"r1", "r3"}));
  EXPECT_EQ(ids("params.optimizer.lr = 0.001"), (Ids{"r1", "r3"}));
  EXPECT_EQ(ids("params.model._target_ = 'cnn'"), (Ids{"r1", "r3"}));
  EXPECT_EQ(ids("params.epochs = 10"), (Ids{"r1"}));
  EXPECT_EQ(ids("params.epochs = 10.0"), (Ids{"r1"}));
  EXPECT_EQ(ids("params.epochs > 5.5"), (Ids{"r1", "r3"}));
  EXPECT_EQ(ids("params.amp = true"), (Ids{"r1"}));
  EXPECT_EQ(ids("params.amp = FALSE"), (Ids{"r2"}));
  EXPECT_EQ(ids("params.seed is null"), (Ids{"r1", "r2", "r3", "r4"}));  // null-valued or absent
  EXPECT_EQ(ids("params.code = '007'"), (Ids{"r1"}));
  EXPECT_EQ(ids("params.code = 7"), (Ids{}));  // text stays text
}

TEST_F(RunFilterQuery, TagsAndTextAttributesCompareLiteralsAsWritten) {
  EXPECT_EQ(ids("tags.priority = 10"), (Ids{"r1"}));
  EXPECT_EQ(ids("tag.priority = '2'"), (Ids{"r2"}));
  EXPECT_EQ(ids("tags.quote = 'it\\'s'"), (Ids{"r3"}));
  EXPECT_EQ(ids("tags.quote = \"it's\""), (Ids{"r3"}));
  EXPECT_EQ(ids("tags.path = 'C:\\\\tmp'"), (Ids{"r3"}));
  EXPECT_EQ(ids("git_commit = 'abc123'"), (Ids{"r1", "r2"}));
}

TEST_F(RunFilterQuery, Attributes) {
  EXPECT_EQ(ids("status = 'finished'"), (Ids{"r1"}));  // any case
  EXPECT_EQ(ids("status in ('failed', 'KILLED')"), (Ids{"r2", "r4"}));
  EXPECT_EQ(ids("experiment = 'cifar'"), (Ids{"r3", "r4"}));
  EXPECT_EQ(ids("duration >= 1000"), (Ids{"r3"}));  // running: up to its heartbeat
  EXPECT_EQ(ids("duration < 100"), (Ids{"r2", "r4"}));
  EXPECT_EQ(ids("end_time is null"), (Ids{"r3"}));
  EXPECT_EQ(ids("start_time > 150 and start_time <= 300"), (Ids{"r2", "r3"}));
  EXPECT_EQ(ids("name is null"), (Ids{"r3"}));  // '' is no name
  EXPECT_EQ(ids("sweep_id = 's1'"), (Ids{"r2", "r3"}));
  EXPECT_EQ(ids("sweep_id is null"), (Ids{"r1", "r4"}));
  EXPECT_EQ(ids("error ilike '%memory%'"), (Ids{"r2"}));
  EXPECT_EQ(ids("id = 'r2' or run_id = 'r3'"), (Ids{"r2", "r3"}));
  EXPECT_EQ(ids("attributes.user = 'bob' and host = 'h2'"), (Ids{"r3", "r4"}));
}

TEST_F(RunFilterQuery, LikeIsCaseSensitiveAndIlikeIsNot) {
  EXPECT_EQ(ids("name like 'alpha%'"), (Ids{"r1"}));
  EXPECT_EQ(ids("name ilike 'alpha%'"), (Ids{"r1", "r4"}));
  EXPECT_EQ(ids("name like 'a_pha'"), (Ids{"r1"}));
  EXPECT_EQ(ids("name not like 'a%'"), (Ids{"r2", "r4"}));
  EXPECT_EQ(ids("params.note like '50%'"), (Ids{"r1"}));
  // GLOB's own wildcards in a LIKE pattern are literal characters.
  EXPECT_EQ(ids("params.note like 'a*b'"), (Ids{"r4"}));
  EXPECT_EQ(ids("params.note like '*'"), (Ids{}));
  EXPECT_EQ(ids("params.note like '[a]*b'"), (Ids{}));
}

TEST_F(RunFilterQuery, InLists) {
  EXPECT_EQ(ids("params.model._target_ in ('cnn', 'mlp')"), (Ids{"r1", "r2", "r3"}));
  EXPECT_EQ(ids("params.model._target_ NOT IN ('cnn')"), (Ids{"r2"}));
  EXPECT_EQ(ids("metrics.val/acc in (0.8, 1)"), (Ids{"r2"}));
  EXPECT_EQ(ids("params.epochs in (5, 20)"), (Ids{"r2", "r3"}));
}

TEST_F(RunFilterQuery, NotBindsTighterThanAndThanOr) {
  EXPECT_EQ(ids("status = 'FAILED' or status = 'KILLED' and metrics.val/acc > 0.5"), (Ids{"r2"}));
  EXPECT_EQ(ids("(status = 'FAILED' or status = 'KILLED') and metrics.val/acc is null"), (Ids{"r4"}));
  EXPECT_EQ(ids("not status = 'FINISHED' AND NOT status = 'RUNNING'"), (Ids{"r2", "r4"}));
  EXPECT_EQ(ids("not (status = 'FINISHED' Or status = 'RUNNING')"), (Ids{"r2", "r4"}));
  EXPECT_EQ(ids("not not status = 'FINISHED'"), (Ids{"r1"}));
  EXPECT_EQ(ids("((metrics.val/acc > 0.9))"), (Ids{"r1", "r3"}));
}

TEST_F(RunFilterQuery, QuotedKeys) {
  EXPECT_EQ(ids("metrics.`my metric` = 1"), (Ids{"r1"}));
  EXPECT_EQ(ids("metrics.\"my metric\" = 1"), (Ids{"r1"}));
  EXPECT_EQ(ids("metrics.`val/acc` > 0.9"), (Ids{"r1", "r3"}));
}

TEST_F(RunFilterQuery, InjectedSqlIsOnlyAValue) {
  EXPECT_EQ(ids("name = 'x\\') OR 1=1; DROP TABLE runs; --'"), (Ids{}));
  EXPECT_EQ(ids("metrics.`x') OR 1=1 --` > 0"), (Ids{}));
  EXPECT_EQ(ids(""), (Ids{"r1", "r2", "r3", "r4"}));  // the table is still there
}

TEST_F(RunFilterQuery, DefaultSortIsNewestFirst) { EXPECT_EQ(ids("", ""), (Ids{"r4", "r3", "r2", "r1"})); }

TEST_F(RunFilterQuery, SortsPutMissingValuesLastAndBreakTiesNewestFirst) {
  EXPECT_EQ(ids("", "-metrics.val/acc"), (Ids{"r3", "r1", "r2", "r4"}));
  EXPECT_EQ(ids("", "metrics.val/acc"), (Ids{"r2", "r3", "r1", "r4"}));
  EXPECT_EQ(ids("", "name"), (Ids{"r4", "r1", "r2", "r3"}));  // binary order: 'A' < 'a'
  EXPECT_EQ(ids("", "-name"), (Ids{"r2", "r1", "r4", "r3"}));
  EXPECT_EQ(ids("", "params.epochs desc"), (Ids{"r3", "r1", "r2", "r4"}));
  EXPECT_EQ(ids("", "+params.epochs"), (Ids{"r2", "r1", "r3", "r4"}));
}

TEST_F(RunFilterQuery, SortsBySeveralKeys) {
  EXPECT_EQ(ids("", "experiment, -duration"), (Ids{"r3", "r4", "r1", "r2"}));
  EXPECT_EQ(ids("status != 'RUNNING'", "tags.priority,id"), (Ids{"r1", "r2", "r4"}));  // text: '10' < '2'
}

// ---- the SQL itself

TEST(RunFilterSql, EveryLiteralAndKeyIsBound) {
  SqlFragment f = compile_run_filter("metrics.val/acc > 0.9 and params.model._target_ = 'cnn'");
  EXPECT_EQ(f.sql,
            "(COALESCE((SELECT value FROM latest_metrics WHERE run_id = runs.id AND key = ?) > ?, 0) AND "
            "COALESCE((SELECT value FROM params WHERE run_id = runs.id AND key = ?) = ?, 0))");
  EXPECT_EQ(f.bindings,
            (std::vector<ParamValue>{std::string("val/acc"), 0.9, std::string("model._target_"), std::string("cnn")}));
}

TEST(RunFilterSql, NumbersAreIntegersOrDoubles) {
  auto value = [](const std::string& literal) { return compile_run_filter("params.x = " + literal).bindings.at(1); };
  EXPECT_EQ(value("1"), ParamValue(std::int64_t{1}));
  EXPECT_EQ(value("-2"), ParamValue(std::int64_t{-2}));
  EXPECT_EQ(value("+3"), ParamValue(std::int64_t{3}));
  EXPECT_EQ(value("1e-3"), ParamValue(1e-3));
  EXPECT_EQ(value("0.5"), ParamValue(0.5));
  EXPECT_EQ(value(".5"), ParamValue(0.5));
  EXPECT_EQ(value("-1.5E2"), ParamValue(-150.0));
  EXPECT_EQ(value("99999999999999999999"), ParamValue(1e20));
  EXPECT_EQ(value("true"), ParamValue(true));
}

TEST(RunFilterSql, SortBindsEachKeyOncePerUse) {
  SqlFragment s = compile_run_sort("-metrics.val/acc, start_time");
  EXPECT_EQ(s.sql,
            "(SELECT value FROM latest_metrics WHERE run_id = runs.id AND key = ?) IS NULL, "
            "(SELECT value FROM latest_metrics WHERE run_id = runs.id AND key = ?) DESC, "
            "runs.start_time IS NULL, runs.start_time, runs.start_time DESC, runs.id DESC");
  EXPECT_EQ(s.bindings, (std::vector<ParamValue>{std::string("val/acc"), std::string("val/acc")}));
  EXPECT_EQ(compile_run_sort("").sql, "runs.start_time DESC, runs.id DESC");
  EXPECT_TRUE(compile_run_sort(" ").bindings.empty());
}

// ---- errors

std::string where_error(const std::string& expression) {
  try {
    compile_run_filter(expression);
  } catch (const UsageError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kConfig);
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << expression;
  return "";
}

std::string sort_error(const std::string& sort) {
  try {
    compile_run_sort(sort);
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << sort;
  return "";
}

// The first line of the message: what, where, hint.
std::string headline(const std::string& message) { return message.substr(0, message.find('\n')); }

TEST(RunFilterError, ShowsWhatWhereAndACaret) {
  EXPECT_EQ(where_error("metrics.val/acc > and params.lr < 1"),
            "--where: expected a value after '>' at column 19\n"
            "  metrics.val/acc > and params.lr < 1\n"
            "                    ^");
}

TEST(RunFilterError, EmptyOperands) {
  EXPECT_EQ(headline(where_error("metrics. > 1")), "--where: expected a metric key after 'metrics.' at column 9");
  EXPECT_EQ(headline(where_error("params.`` = 1")), "--where: expected a param key after 'params.' at column 8");
  EXPECT_EQ(headline(where_error("metrics.val/acc >")), "--where: expected a value after '>' at column 18");
  EXPECT_EQ(headline(where_error("status = 'FAILED' and")),
            "--where: expected a field (metrics.<key>, params.<key>, tags.<key> or an attribute) after 'and' at "
            "column 22");
  EXPECT_EQ(headline(where_error("0.9 < metrics.val/acc")),
            "--where: expected a field (metrics.<key>, params.<key>, tags.<key> or an attribute) at column 1; the "
            "field comes first, as in metrics.val/acc > 0.9");
  EXPECT_EQ(headline(where_error("status in ()")), "--where: expected a value after '(' at column 12");
}

TEST(RunFilterError, UnbalancedParentheses) {
  EXPECT_EQ(where_error("(status = 'FAILED'"),
            "--where: expected ')' at column 19; the '(' at column 1 is not closed\n"
            "  (status = 'FAILED'\n"
            "                    ^");
  EXPECT_EQ(headline(where_error("status = 'FAILED')")),
            "--where: unexpected ')' at column 18; there is no '(' to close");
  EXPECT_EQ(headline(where_error("(status = 'FAILED' x)")),
            "--where: expected 'and', 'or' or ')' after 'FAILED' at column 20");
}

TEST(RunFilterError, UnknownAttributesSuggestTheClosest) {
  EXPECT_EQ(headline(where_error("stauts = 'FAILED'")),
            "--where: unknown attribute 'stauts' at column 1; did you mean 'status'? (a metric, param or tag needs "
            "its prefix: metrics.stauts, params.stauts or tags.stauts)");
  EXPECT_EQ(headline(where_error("metrics.x > 1 and val/acc > 0.9")),
            "--where: unknown attribute 'val/acc' at column 19; a metric, param or tag needs its prefix: "
            "metrics.val/acc, params.val/acc or tags.val/acc; the attributes are id, name, experiment, status, error, "
            "user, host, git_commit, sweep_id, start_time, end_time, heartbeat, duration");
  EXPECT_EQ(headline(where_error("metrcs.val/acc > 1")),
            "--where: unknown field prefix 'metrcs.' at column 1; did you mean 'metrics'?");
  EXPECT_EQ(headline(where_error("status = FINISHED")),
            "--where: unknown attribute 'FINISHED' at column 10; quote it if it is text: 'FINISHED'");
  EXPECT_EQ(headline(where_error("status = 'FINSHED'")),
            "--where: unknown status 'FINSHED' at column 10; did you mean 'FINISHED'?");
}

TEST(RunFilterError, UnterminatedStringsAndKeys) {
  EXPECT_EQ(headline(where_error("name = 'abc")),
            "--where: unterminated string at column 8; no closing ' before the end");
  EXPECT_EQ(headline(where_error("name = \"abc\\\"")),
            "--where: unterminated string at column 8; no closing \" before the end");
  EXPECT_EQ(headline(where_error("metrics.`my metric > 1")),
            "--where: unterminated quoted key at column 9; no closing ` before the end");
  EXPECT_NE(where_error("name = 'a\\qb'").find("unknown escape '\\q' at column 10"), std::string::npos);
}

TEST(RunFilterError, TrailingGarbageAndBareKeys) {
  EXPECT_EQ(headline(where_error("status = 'FAILED' foo")),
            "--where: expected 'and', 'or' or the end after 'FAILED' at column 19");
  EXPECT_EQ(headline(where_error("metrics.val/acc and status = 'FAILED'")),
            "--where: expected a comparison after 'metrics.val/acc' at column 17; one of =, !=, <, <=, >, >=, [not] "
            "like, [not] ilike, [not] in, is [not] null");
  EXPECT_EQ(headline(where_error("metrics.val/acc")),
            "--where: expected a comparison after 'metrics.val/acc' at column 16; one of =, !=, <, <=, >, >=, [not] "
            "like, [not] ilike, [not] in, is [not] null");
  EXPECT_EQ(headline(where_error("name not = 'x'")),
            "--where: expected 'like', 'ilike' or 'in' after 'not' at column 10");
  EXPECT_EQ(headline(where_error("name is 'x'")), "--where: expected 'null' after 'is' at column 9");
}

TEST(RunFilterError, BadCharactersAndNumbers) {
  EXPECT_EQ(headline(where_error("name = 'a' && id = 'b'")), "--where: unexpected '&&' at column 12; write 'and'");
  EXPECT_EQ(headline(where_error("!(name = 'a')")),
            "--where: unexpected character '!' at column 1; write 'not', or '!=' to compare");
  EXPECT_EQ(headline(where_error("id = 2024abc")),
            "--where: invalid number '2024abc' at column 6; quote it if it is text: '2024abc'");
  EXPECT_EQ(headline(where_error("params.x = 1e999")), "--where: number '1e999' is out of range at column 12");
}

TEST(RunFilterError, TypeMismatches) {
  EXPECT_EQ(headline(where_error("metrics.val/acc > 'high'")),
            "--where: expected a number after '>' at column 19; metrics.val/acc is a number");
  EXPECT_EQ(headline(where_error("duration = true")),
            "--where: expected a number after '=' at column 12; duration is a number");
  EXPECT_EQ(headline(where_error("metrics.val/acc like '9%'")),
            "--where: cannot use 'like' on a number at column 17; metrics.val/acc is a number; compare it with =, <, "
            "> or in");
  EXPECT_EQ(headline(where_error("name like 5")), "--where: expected a quoted pattern after 'like' at column 11");
  EXPECT_EQ(headline(where_error("params.seed = null")),
            "--where: cannot compare with null at column 15; write 'is null' or 'is not null'");
}

TEST(RunFilterError, ColumnsCountCharactersNotBytes) {
  EXPECT_EQ(where_error("name = 'é' and"),
            "--where: expected a field (metrics.<key>, params.<key>, tags.<key> or an attribute) after 'and' at column "
            "15\n"
            "  name = 'é' and\n"
            "                ^");
}

TEST(RunFilterError, RefusesAbsurdNesting) {
  std::string deep(200, '(');
  EXPECT_NE(where_error(deep + "id = 'x'").find("nested too deeply at column 101"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 200; ++i) nots += "not ";
  EXPECT_NE(where_error(nots + "id = 'x'").find("nested too deeply"), std::string::npos);
}

TEST(RunFilterError, SortErrors) {
  EXPECT_EQ(sort_error("name,,id"),
            "--sort: empty sort key at column 6; remove the extra ','\n"
            "  name,,id\n"
            "       ^");
  EXPECT_EQ(headline(sort_error("name,")), "--sort: empty sort key at column 6; remove the extra ','");
  EXPECT_EQ(headline(sort_error(",name")), "--sort: empty sort key at column 1; remove the extra ','");
  EXPECT_NE(sort_error("-").find("--sort: expected a sort key after '-' at column 2"), std::string::npos);
  EXPECT_EQ(headline(sort_error("-strat_time")),
            "--sort: unknown attribute 'strat_time' at column 2; did you mean 'start_time'? (a metric, param or tag "
            "needs its prefix: metrics.strat_time, params.strat_time or tags.strat_time)");
  EXPECT_EQ(headline(sort_error("name foo")), "--sort: expected ',' or the end after 'name' at column 6");
  EXPECT_EQ(headline(sort_error("-name desc")),
            "--sort: 'desc' on a key that already has a sign at column 7; use one: '-name' or 'name desc'");
  EXPECT_EQ(headline(sort_error("metrics.")), "--sort: expected a metric key after 'metrics.' at column 9");
}

}  // namespace
}  // namespace kiln::track
