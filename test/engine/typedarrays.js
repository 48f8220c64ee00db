// Minimal ArrayBuffer / Uint8Array / Int32Array for engines without typed arrays (MuJS 1.3).
// Installed only when the engine has no Uint8Array. It is a test shim: correct rather than
// fast. It covers what the bundles use: new Uint8Array(length | array | typed array |
// ArrayBuffer [, byteOffset [, length]]), new Int32Array(length | array | typed array),
// index reads and wrapping stores (accessors defined per index), set(array, offset),
// subarray(begin, end), length, buffer, byteOffset, byteLength, ArrayBuffer#slice, instanceof.
// Uint8Array views share the bytes of their ArrayBuffer; an Int32Array keeps its own words and
// has no buffer, so the bundles find no host byte order here and MD5 packs its words byte by
// byte, as on a big-endian host (elsewhere it views the message as Int32Array words).
if (typeof Uint8Array == "undefined") (function (global) {
  function ArrayBufferShim(n) {
    var i;
    n = n >>> 0;
    this._b = [];
    for (i = 0; i < n; i++) this._b.push(0);
    this.byteLength = n;
  }
  ArrayBufferShim.prototype.slice = function (begin, end) {
    var n = this.byteLength, a = clamp(begin, n, 0), b = clamp(end, n, n), out = new ArrayBufferShim(b > a ? b - a : 0), i;
    for (i = a; i < b; i++) out._b[i - a] = this._b[i];
    return out;
  };

  function clamp(v, n, dflt) {
    if (v === undefined) return dflt;
    v = Math.floor(+v) || 0;
    if (v < 0) v += n;
    return v < 0 ? 0 : v > n ? n : v;
  }

  function isArrayLike(a) {
    return a !== null && typeof a == "object" && typeof a.length == "number";
  }

  // Defines element i of a view as an accessor onto store[base + i].
  function element(view, store, base, i, wrap) {
    Object.defineProperty(view, i, {
      get: function () {
        return store[base + i];
      },
      set: function (v) {
        store[base + i] = wrap(v);
      },
      enumerable: true,
    });
  }

  function u8(v) {
    return v & 255;
  }
  function i32(v) {
    return v | 0;
  }

  function Uint8ArrayShim(a, byteOffset, length) {
    var i, src;
    if (a instanceof ArrayBufferShim) {
      byteOffset = byteOffset === undefined ? 0 : byteOffset >>> 0;
      length = length === undefined ? a.byteLength - byteOffset : length >>> 0;
      if (byteOffset + length > a.byteLength) throw new Error("Uint8Array shim: view outside its buffer");
      this.buffer = a;
    } else if (isArrayLike(a)) {
      src = a;
      length = a.length;
      byteOffset = 0;
      this.buffer = new ArrayBufferShim(length);
    } else {
      if (a !== undefined && typeof a != "number") throw new Error("Uint8Array shim: unsupported argument " + a);
      length = (a || 0) >>> 0;
      byteOffset = 0;
      this.buffer = new ArrayBufferShim(length);
    }
    this.byteOffset = byteOffset;
    this.byteLength = length;
    this.length = length;
    for (i = 0; i < length; i++) element(this, this.buffer._b, byteOffset, i, u8);
    if (src) for (i = 0; i < length; i++) this[i] = src[i];
  }
  Uint8ArrayShim.BYTES_PER_ELEMENT = 1;

  function Int32ArrayShim(a) {
    var i, n;
    if (a instanceof ArrayBufferShim) throw new Error("Int32Array shim: views on an ArrayBuffer are not supported");
    if (a !== undefined && typeof a != "number" && !isArrayLike(a)) throw new Error("Int32Array shim: unsupported argument " + a);
    n = isArrayLike(a) ? a.length : (a || 0) >>> 0;
    this._w = [];
    for (i = 0; i < n; i++) this._w.push(0);
    this.length = n;
    this.byteOffset = 0;
    this.byteLength = n * 4;
    for (i = 0; i < n; i++) element(this, this._w, 0, i, i32);
    if (isArrayLike(a)) for (i = 0; i < n; i++) this[i] = a[i];
  }
  Int32ArrayShim.BYTES_PER_ELEMENT = 4;

  function set(array, offset) {
    var i, n = array.length, copy = [];
    offset = offset === undefined ? 0 : offset >>> 0;
    if (offset + n > this.length) throw new Error("typed array shim: set() out of range");
    for (i = 0; i < n; i++) copy.push(array[i]); // a copy first: source and target may overlap
    for (i = 0; i < n; i++) this[offset + i] = copy[i];
  }

  Uint8ArrayShim.prototype.set = set;
  Int32ArrayShim.prototype.set = set;
  Uint8ArrayShim.prototype.subarray = function (begin, end) {
    var a = clamp(begin, this.length, 0), b = clamp(end, this.length, this.length);
    return new Uint8ArrayShim(this.buffer, this.byteOffset + a, b > a ? b - a : 0);
  };
  Int32ArrayShim.prototype.subarray = function () {
    throw new Error("Int32Array shim: subarray is not supported");
  };

  global.ArrayBuffer = ArrayBufferShim;
  global.Uint8Array = Uint8ArrayShim;
  global.Int32Array = Int32ArrayShim;
})(this);
