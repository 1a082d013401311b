"""The image catalogue: which image runs each program, and how it is built.

Every image is Debian's packages on the same Debian release as the embedded runtime's host, so
both runtimes run the same program versions. The four images the lab itself needs are shipped
with their Dockerfiles under lab/images/ (the edge's copies in the emulator package); an image for
another router program is a list of Debian packages whose Dockerfile is rendered with the lab
under images/<program>/ of the rendered directory, when the lab runs that program.
"""
from __future__ import annotations

from dataclasses import dataclass

from emulator.core.errors import PlanError
from emulator.plan.model import Node

DEBIAN = "debian:bookworm-slim"


@dataclass(frozen=True)
class Image:
    """A maps-lab image: its name and how to build it, from the repository root.

    Shipped images: their Dockerfile is in the repository. Rendered images (packages given):
    their Dockerfile is written with the lab, at `dockerfile` under the rendered directory, and
    their context is the repository, for the emulator package they carry.
    """

    name: str
    dockerfile: str
    context: str
    packages: tuple[str, ...] = ()       # Debian packages of a rendered image
    purpose: str = ""

    @property
    def rendered(self) -> bool:
        return bool(self.packages)

    def build_argv(self, registry: str = "", rendered_dir: str = "DIR") -> list[str]:
        """`docker build` from the repository root; rendered_dir: where the lab was rendered."""
        dockerfile = f"{rendered_dir}/{self.dockerfile}" if self.rendered else self.dockerfile
        return ["docker", "build", "-t", registry + self.name, "-f", dockerfile, self.context]

    def dockerfile_text(self) -> str:
        """The Dockerfile of a rendered image, made like the shipped ones."""
        if not self.rendered:
            raise PlanError(f"{self.name} is shipped as {self.dockerfile}, not rendered")
        return "\n".join([
            f"# maps-lab {self.purpose} (Debian {self.packages[0]}), iproute2 for the LAG bonds,",
            "# and the emulator package for the node agent, run by Debian's python3.",
            "# Build from the repository root (the context holds the emulator package), DIR being",
            "# the lab's rendered directory:",
            "#   " + " ".join(self.build_argv()),
            "# Config comes from the lab's binds; containerlab `exec` runs /maps-lab/start.sh.",
            f"FROM {DEBIAN}",
            "",
            "RUN apt-get update \\",
            " && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\",
            f"      {' '.join(self.packages)} \\",
            " && rm -rf /var/lib/apt/lists/*",
            "",
            "COPY emulator/ /opt/maps-lab/src/emulator/",
            "ENV PYTHONPATH=/opt/maps-lab/src",
            "",
            "# tini reaps the daemons that start.sh leaves running after containerlab's exec returns.",
            'ENTRYPOINT ["/usr/bin/tini", "--"]',
            'CMD ["sleep", "infinity"]',
            "",
        ])


# Beside a rendered Dockerfile (BuildKit reads <Dockerfile>.dockerignore): the context is the
# repository, of which the image needs the emulator package only.
DOCKERIGNORE = "*\n!emulator/\n!emulator/**\n**/__pycache__\n"


def _debian(program: str, package: str, purpose: str) -> Image:
    return Image(f"maps-lab/{program}:latest", f"images/{program}/Dockerfile", ".",
                 (package, "python3", "iproute2", "procps", "tini"), purpose)


# Keyed by the plan's `software`.
IMAGES: dict[str, Image] = {
    "frr": Image("maps-lab/frr:latest", "lab/images/frr/Dockerfile", "lab/images/frr"),
    "bird": Image("maps-lab/bird:latest", "lab/images/bird/Dockerfile", "lab/images/bird"),
    # The edge runs the edge agent from this repository: its context is the repository.
    "exabgp": Image("maps-lab/edge:latest", "lab/images/edge/Dockerfile", "."),
    "bridge": Image("maps-lab/ixlan:latest", "lab/images/ixlan/Dockerfile", "lab/images/ixlan"),
    "openbgpd": _debian("openbgpd", "openbgpd", "peer router: OpenBGPD"),
    "gobgp": _debian("gobgp", "gobgpd", "peer router: GoBGP"),
}


def image_of(node: Node) -> Image:
    found = IMAGES.get(node.software)
    if found is None:
        raise PlanError(f"{node.name}: no containerlab image runs {node.software!r} "
                        f"(images for: {', '.join(sorted(IMAGES))}); give the node an image of "
                        f"your own with an override")
    return found
