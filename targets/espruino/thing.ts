export { thing, float } from "../../src/thing";
