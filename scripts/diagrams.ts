/**
 * `npm run diagrams`: writes docs/statecharts/ from the production machine
 * (Mermaid, SVG laid out by ELK, and a README with every state, event and
 * transition). Same machine → byte-identical files.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generateStatecharts } from "./statecharts/generate.js";

const dir = fileURLToPath(new URL("../docs/statecharts/", import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [name, content] of Object.entries(await generateStatecharts())) {
  writeFileSync(`${dir}${name}`, content);
  console.log(`docs/statecharts/${name}`);
}
