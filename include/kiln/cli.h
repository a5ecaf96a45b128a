// kiln's command line, callable from users' own binaries.
//
// A project that registers its own models or datasets gets the whole `kiln`
// command line in its binary:
//
//   int main(int argc, char** argv) { return kiln::main(argc, argv); }
//
// kiln::main catches every kiln::Error once, prints it to stderr and returns
// its exit code (2 for config and usage errors); it never throws.
#pragma once

namespace kiln {

int main(int argc, char** argv);

}  // namespace kiln
