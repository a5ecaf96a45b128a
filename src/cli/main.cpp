// The `kiln` executable: everything lives in kiln_cli so that users can build
// the same command line into their own binaries (see include/kiln/cli.h).
#include "kiln/cli.h"

int main(int argc, char** argv) { return kiln::main(argc, argv); }
