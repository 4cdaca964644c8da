"""Packaging for batchai-compat (tool configuration lives in pyproject.toml)."""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'^DISTRIBUTION_VERSION = "([^"]+)"', (HERE / "batchai_compat" / "_version.py").read_text(), re.M).group(1)

setup(
    name="batchai-compat",
    version=VERSION,
    description="Drop-in replacement for the retired azure-mgmt-batchai 2.0.0 SDK, "
    "running jobs locally or on Azure Machine Learning",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    packages=find_packages(include=["batchai_compat", "batchai_compat.*"]),
    include_package_data=True,
    install_requires=[
        "azure-common>=1.1",
        "msrest>=0.6.21,<0.8",
        "msrestazure>=0.6.4,<0.7",
        "requests>=2.20",
        # the `batchai` command (batchai_compat.cli): the Azure CLI's own framework (output formats, --query)
        "knack>=0.11,<0.15",
        # the REST gateway (batchai_compat.gateway): a threaded WSGI server with TLS (azure-core clients send
        # bearer tokens over https only)
        "cheroot>=10",
    ],
    entry_points={
        "console_scripts": [
            "batchai-migrate=batchai_compat.migrate:main",
            "batchai=batchai_compat.cli:main",
            "batchai-gateway=batchai_compat.gateway:main",
        ]
    },
    extras_require={
        "azureml": ["azureml-core>=1.50"],
        "storage": ["azure-storage-blob>=12.8", "azure-storage-file-share>=12.4"],
        "identity": ["azure-identity>=1.10"],
        # the azure-mgmt-batchai 7.0.0 (track 2) generation, batchai_compat.v7
        "track2": ["azure-core>=1.24", "azure-mgmt-core>=1.3"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Operating System :: POSIX :: Linux",
        "Operating System :: MacOS",
    ],
)
