"""campaign_test: a test that runs the campaign driver (//properties:campaign) with fixed flags.

Every campaign test runs the same binary, built once, instead of linking a binary of its own:
the driver's flags (--model, --bug, --runs, --expect, ...; properties/campaign_main.cc) are the
test. Sharding (shard_count) reaches the driver through Bazel's TEST_TOTAL_SHARDS and
TEST_SHARD_INDEX, as before.
"""

def campaign_test(name, args, size = "medium", shard_count = None, tags = []):
    """A test that runs `campaign` with `args`; passes when the driver exits 0.

    Args:
      name: the test's name.
      args: the driver's flags, e.g. ["--model=xv6", "--bug=B", "--runs=300", "--expect=found"].
      size: the test's size.
      shard_count: shards, each running its share of the seeds.
      tags: the test's tags ("manual" for the nightly campaigns).
    """
    native.sh_test(
        name = name,
        srcs = ["//properties:run_campaign.sh"],
        args = ["$(rootpath //properties:campaign)"] + args,
        data = ["//properties:campaign"],
        size = size,
        shard_count = shard_count,
        tags = tags,
    )
