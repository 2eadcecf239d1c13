#!/usr/bin/env python3
"""Checks that a portable build of the forgeflow core runs on any x86-64-v2 CPU.

Disassembles the static library (objdump -d) and fails when a function other than a dispatched
clone (GCC target_clones: NAME.avx2, NAME.avx512f, ...; see cpp/src/core/cpu_dispatch.h) or a
function in a namespace isa_avx2 / isa_avx512f (code compiled for that set under
`#pragma GCC target`, called only where the CPU has it: cpp/src/backend/cpu/pooling.cpp)
holds an instruction beyond x86-64-v2: any VEX/EVEX instruction (AVX, AVX2, FMA, F16C,
AVX-512: mnemonics starting with "v", ymm/zmm/mask registers) or BMI1/BMI2/LZCNT/MOVBE. It also
fails when no AVX2 and AVX-512 clones with vector code are found: the dispatch is not there.
Run by ctest in a portable build (CMakeLists.txt); usage: check_isa_baseline.py LIBRARY.a
"""
import argparse
import re
import subprocess
import sys

FUNCTION = re.compile(r"^[0-9a-f]+ <(.+)>:$")
INSTRUCTION = re.compile(r"^\s+[0-9a-f]+:\s+(\S+)\s*(.*)$")
# Beyond x86-64-v2 without a "v" mnemonic. tzcnt is left out: GCC writes `rep bsf`, which
# objdump prints as tzcnt and which runs as bsf on CPUs without BMI1.
NOT_V2 = {"andn", "bextr", "blsi", "blsmsk", "blsr", "bzhi", "mulx", "pdep", "pext", "rorx",
          "sarx", "shlx", "shrx", "lzcnt", "movbe"}
WIDE_REGISTER = re.compile(r"%(ymm|zmm)\d+|%k[0-7]\b")
CLONE = re.compile(r"\.(avx2|avx512f)(\.|$)|isa_(avx2|avx512f)")


def beyond_v2(mnemonic, operands):
    return mnemonic.startswith("v") or mnemonic in NOT_V2 or bool(WIDE_REGISTER.search(operands))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library")
    parser.add_argument("--objdump", default="objdump")
    args = parser.parse_args()
    listing = subprocess.run([args.objdump, "-d", "--no-show-raw-insn", args.library],
                             check=True, capture_output=True, text=True).stdout
    function, member = None, None
    offenders = {}  # (object file, function) -> first offending instruction
    vector_clones = {"avx2": 0, "avx512f": 0}
    functions = 0
    clone_has_vector = False
    for line in listing.splitlines():
        if "file format" in line:  # "member.o:     file format elf64-x86-64"
            member = line.split(":")[0]
            continue
        m = FUNCTION.match(line)
        if m:
            function = m.group(1)
            functions += 1
            clone = CLONE.search(function)
            clone_has_vector = False
            continue
        m = INSTRUCTION.match(line)
        if not m or function is None:
            continue
        mnemonic, operands = m.group(1), m.group(2)
        if not beyond_v2(mnemonic, operands):
            continue
        if clone:
            if not clone_has_vector:
                vector_clones[clone.group(1) or clone.group(3)] += 1
                clone_has_vector = True
            continue
        offenders.setdefault((member, function), f"{mnemonic} {operands}".strip())
    if offenders:
        print(f"check_isa_baseline: {len(offenders)} function(s) outside the dispatched clones "
              f"use instructions beyond x86-64-v2:")
        for (obj, fn), insn in sorted(offenders.items())[:40]:
            print(f"  {obj}: {fn}: {insn}")
        return 1
    if not vector_clones["avx2"] or not vector_clones["avx512f"]:
        print(f"check_isa_baseline: expected AVX2 and AVX-512 clones with vector code, found "
              f"{vector_clones}: the runtime dispatch is missing (FORGEFLOW_CPU_DISPATCH?)")
        return 1
    print(f"check_isa_baseline: {functions} functions; outside {vector_clones['avx2']} AVX2 and "
          f"{vector_clones['avx512f']} AVX-512 clones with vector code, all within x86-64-v2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
