#!/usr/bin/env bash
# Runs the campaign driver given as $1 with the remaining arguments (properties/campaign.bzl).
exec "$@"
