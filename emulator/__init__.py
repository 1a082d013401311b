"""maps-lab: a lab emulator for the MAPS Exchange with Route Server interconnect."""
