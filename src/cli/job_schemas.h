// The schemas `kiln train` checks the composed config against.
#pragma once

namespace kiln::cli {

// Registers kiln's own job schemas (run-level keys, run, trainer) with
// config::job_schema_registry(); idempotent. The trainer schema moves to the
// train layer when the trainer lands.
void register_builtin_job_schemas();

}  // namespace kiln::cli
