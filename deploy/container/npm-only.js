// Keeps only the named packages in ./package.json (as dependencies, at the versions it asks for), so that a
// following `npm install` takes them, and what they need, at the versions package-lock.json pins, and nothing else:
// the pages' bundle needs esbuild and the Firebase JS SDK, the emulators image firebase-tools alone.
//   node npm-only.js NAME...
const fs = require("fs");

const wanted = process.argv.slice(2);
const manifest = JSON.parse(fs.readFileSync("package.json", "utf8"));
const all = { ...(manifest.dependencies || {}), ...(manifest.devDependencies || {}) };
const kept = {};
for (const name of wanted) {
  if (!(name in all)) {
    console.error(`npm-only: ${name} is not in package.json`);
    process.exit(1);
  }
  kept[name] = all[name];
}
manifest.dependencies = kept;
delete manifest.devDependencies;
fs.writeFileSync("package.json", JSON.stringify(manifest, null, 2) + "\n");
