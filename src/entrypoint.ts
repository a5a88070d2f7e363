#!/usr/bin/env node
// The container image's entry point: without arguments it runs the GitHub App (`docker run IMAGE`); with any, the
// command-line tool (`docker run -v "$PWD:/src" IMAGE check /src`). Each branch loads only its own code.
if (process.argv.length <= 2) await import("./app/main.js");
else await import("./bin.js");
