#!/usr/bin/env bash
# Builds the photo sets `paint-eval` is measured on, from freely licensed wallpapers Debian ships
# (lomiri-wallpapers; licences in /usr/share/doc/lomiri-wallpapers/copyright): centre crops resized to 512×512.
# dev/ is for tuning; heldout/ is scored only for reports.
#   bash scripts/make_photo_set.sh [DIR]        # default DIR: photos
set -euo pipefail
out="${1:-photos}"
command -v convert >/dev/null || apt-get install -y -qq imagemagick >/dev/null
[ -e /usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg ] || apt-get install -y -qq lomiri-wallpapers >/dev/null
mkdir -p "$out/dev" "$out/heldout"
crop() { convert "/usr/share/backgrounds/$1" -resize 512x512^ -gravity center -extent 512x512 "$out/$2/${1%%_by*}.png"; }
for f in Dragonfly_by_Bolly.jpg Kleiber_by_Lukas_Baubkus.jpg Picture_1A_by_freespace.jpg Wine_by_Jakkub_Mede.jpg \
         aitzgorri_by_Aitzol_Berasategi.jpg greentock_by_Peter_Nerlich.jpg life_by_Aitzol_Berasategi.jpg; do crop "$f" dev; done
for f in friends_by_Aitzol_Berasategi.jpg free_by_Peter_Nerlich.jpg Picture_0B_by_freespace.jpg \
         picosdeeuropa_by_Aitzol_Berasategi.jpg seeding_by_Clements_Engelhardt.jpg sunset_by_Aitzol_Berasategi.jpg \
         Bridge_by_Sander_Klootwijk.jpg; do crop "$f" heldout; done
echo "wrote $out/dev (7 photos) and $out/heldout (7 photos)"
