// A Moddable bundle as a script: its import declarations removed (their names bound from an
// object of stand-in modules) and its final `export {a as b}` turned into a returned object.
import * as acorn from 'acorn';

export const MODDABLE_MODULES = ['http', 'securesocket', 'preference', 'timer', 'crypt', 'rng', 'file', 'aliyun-iot-http', 'aliyun-iot-http-queue'];

export function splitModule(text) {
  const ast = acorn.parse(text, { ecmaVersion: 'latest', sourceType: 'module' });
  const bindings = [], exported = [], cuts = [];
  for (const node of ast.body) {
    if (node.type === 'ImportDeclaration') {
      const from = node.source.value;
      if (!MODDABLE_MODULES.includes(from)) throw new Error(`unexpected import from "${from}"`);
      for (const s of node.specifiers) {
        if (s.type === 'ImportDefaultSpecifier') bindings.push([s.local.name, from, 'default']);
        else if (s.type === 'ImportSpecifier') bindings.push([s.local.name, from, s.imported.name]);
        else throw new Error(`unsupported import form from "${from}" (${s.type})`);
      }
      cuts.push(node);
    } else if (node.type === 'ExportNamedDeclaration' && !node.declaration && !node.source) {
      for (const s of node.specifiers) exported.push([s.exported.name, s.local.name]);
      cuts.push(node);
    } else if (/^Export/.test(node.type)) {
      throw new Error(`unsupported export form ${node.type}: only "export {a as b}" is converted`);
    }
  }
  let body = text;
  for (const node of cuts.sort((a, b) => b.start - a.start)) {
    body = body.slice(0, node.start) + ' '.repeat(node.end - node.start) + body.slice(node.end);
  }
  return { body, bindings, exported };
}

// Module code is strict: the body runs inside a "use strict" function.
export function moddableAsScript(text, modulesExpr) {
  const { body, bindings, exported } = splitModule(text);
  const vars = bindings.map(([local, from, name]) => `var ${local} = ${modulesExpr}[${JSON.stringify(from)}][${JSON.stringify(name)}];`).join('\n');
  const ret = exported.map(([name, local]) => `${JSON.stringify(name)}: ${local}`).join(', ');
  return `(function () {\n"use strict";\n${vars}\n${body}\nreturn { ${ret} };\n})()`;
}
