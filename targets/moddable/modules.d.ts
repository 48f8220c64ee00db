// The Moddable SDK modules this target imports, as far as it uses them.
declare module "http" {
  export var Request: any;
}
declare module "securesocket" {
  var SecureSocket: any;
  export default SecureSocket;
}
declare module "preference" {
  var Preference: {
    get(domain: string, key: string): any;
    set(domain: string, key: string, value: any): void;
    delete(domain: string, key: string): void;
    keys(domain: string): string[];
  };
  export default Preference;
}
declare module "timer" {
  var Timer: { set(fn: () => void, ms: number): any; clear(id: any): void };
  export default Timer;
}
declare module "crypt" {
  export var Digest: any;
}
declare module "rng" {
  var RNG: { get(n: number): ArrayBuffer };
  export default RNG;
}
declare module "file" {
  export var File: any;
  export var Iterator: any;
}
