// Starts Azurite with the arguments given, and stops it once the process named by AZURITE_PARENT_PID is gone:
// a test run that is killed (not just one that ends) then leaves no emulator behind.
"use strict";
const parent = Number(process.env.AZURITE_PARENT_PID);
if (parent > 0) {
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      process.exit(0);
    }
  }, 1000).unref();
}
require("./node_modules/azurite/dist/src/azurite.js");
