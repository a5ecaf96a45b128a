// Run directories: root/<name>/, created atomically, never shared by accident.
//
// Layout (the caller chooses root; `kiln train` uses runs/<experiment>):
//
//   <root>/
//     2024-03-14_09-26-53_3fa9c01e/   a run with the generated id 20240314-092653-3fa9c01e
//     slurm-812345-0/                 a run whose id came from the launcher
//
// A generated id's directory spells its date and time the way people read
// them (Hydra's outputs/<date>/<time>); the name holds exactly the id's
// information, so the id is recoverable from it. A shared id is used as is:
// every rank must arrive at the same directory without talking to the others,
// and ranks do not start in the same second.
//
// What goes inside a run directory is written by the layers that own it
// (config snapshot, logs, checkpoints).
//
// Creation relies on mkdir(2)'s exclusivity rather than "check, then create":
// for a generated id, EEXIST means another run took that name (the same
// second and, improbably, the same random bits), so a fresh id is drawn and
// mkdir retried. For a shared id (RunId::shared(): from KILN_RUN_ID, torchrun
// or SLURM) every rank creates the same directory and whichever is first wins;
// the others find it existing, which is not an error.
//
// Thread and process safety: safe to call concurrently from any number of
// threads and processes on a local or NFS filesystem (mkdir is atomic).
#pragma once

#include <filesystem>

#include "kiln/track/run_id.h"

namespace kiln::track {

struct RunDirOptions {
  // Clock and entropy for fresh ids after a collision.
  RunIdEnv env;
  // Fresh ids tried after EEXIST before giving up with an IoError. A real
  // collision needs the same second and the same 32 random bits, so more than
  // one retry means the entropy source is broken.
  int max_attempts = 8;
};

// The directory name of a run: "YYYY-MM-DD_HH-MM-SS_xxxxxxxx" for a
// generated id, the id itself for a shared one.
std::string run_dir_name(const RunId& id);
// The inverse, for an existing directory: a generated id from a
// "YYYY-MM-DD_HH-MM-SS_xxxxxxxx" name, else the name itself as a shared id.
RunId run_id_from_dir_name(const std::string& name);

struct RunDir {
  std::filesystem::path path;  // root / run_dir_name(id)
  RunId id;                    // the id actually used (a fresh one after a collision)
  bool created = true;         // false when a shared id's directory already existed
};

// Creates root (and its parents) if needed, then root/run_dir_name(id). Returns the
// directory and the id it was created under, which differs from `id` only
// when a generated id collided. Throws kiln::IoError naming the path and
// strerror when a directory cannot be created, when root/<id> exists but is
// not a directory, or after options.max_attempts collisions. Throws
// kiln::UsageError when id.value is not a valid run id (is_valid_run_id).
RunDir create_run_dir(const std::filesystem::path& root, const RunId& id, const RunDirOptions& options = {});

}  // namespace kiln::track
