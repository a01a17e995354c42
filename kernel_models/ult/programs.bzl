"""The compiled configurations of the threads library: (name, compiler flags).

regs-*: the correct library (switch_i386.S saves the callee-saved registers and esp).
ebp-*: the seed's ebp-only switch_context, at the configurations the README's table measures.
bug-*: planted bugs, on the correct library at -O2.
"""

REGS = ["-DSWITCH_SAVE_REGISTERS"]
EBP = ["-DSWITCH_EBP_ONLY"]

ULT_PROGRAMS = [
    ("regs-O0", REGS + ["-O0"]),
    ("regs-O2", REGS + ["-O2"]),
    ("regs-O2-fp", REGS + ["-O2", "-fno-omit-frame-pointer"]),
    ("regs-Os", REGS + ["-Os"]),
    ("ebp-O0", EBP + ["-O0"]),
    ("ebp-O0-nolocal", EBP + ["-O0", "-DSWITCH_NO_LOCAL"]),
    ("ebp-O0-omit-fp", EBP + ["-O0", "-fomit-frame-pointer"]),
    ("ebp-O1-fp", EBP + ["-O1", "-fno-omit-frame-pointer"]),
    ("ebp-O2", EBP + ["-O2"]),
    ("ebp-O2-fp", EBP + ["-O2", "-fno-omit-frame-pointer"]),
    ("ebp-O2-fp-noinline", EBP + ["-O2", "-fno-omit-frame-pointer", "-DSWITCH_NOINLINE"]),
    ("bug-frame-off-by-one", REGS + ["-O2", "-DBUG_FRAME_OFF_BY_ONE"]),
    ("bug-frame-misaligned", REGS + ["-O2", "-DBUG_FRAME_MISALIGNED"]),
    ("bug-remove-running", REGS + ["-O2", "-DBUG_REMOVE_RUNNING"]),
    ("bug-threadcount", REGS + ["-O2", "-DBUG_THREADCOUNT_NOT_UPDATED"]),
    ("bug-signal-race", REGS + ["-O2", "-DBUG_SIGNAL_RACE"]),
    ("bug-release-returns-blocked", REGS + ["-O2", "-DBUG_RELEASE_RETURNS_BLOCKED"]),
]
