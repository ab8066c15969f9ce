#!/usr/bin/env python3
"""Prints template.yaml as CloudFormation after the SAM transform, offline (aws-sam-translator, which cfn-lint
installs): what SAM generates (roles, their managed policies, aliases) can then be checked.

    infra/sam-translate.py template.yaml StreamSources=both > /tmp/translated.json
"""
import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """Managed policy names are looked up in IAM; offline there are none to resolve."""

    def load(self):
        return {}


def main():
    template = yaml_parse(open(sys.argv[1]).read())
    # sam build replaces the local CodeUri with the uploaded artifact's S3 URI; the transform needs one
    template.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = "s3://bucket/function.zip"
    parameters = dict(arg.split("=", 1) for arg in sys.argv[2:])
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    print(json.dumps(transform(template, parameters, NoManagedPolicies()), indent=1))


if __name__ == "__main__":
    main()
