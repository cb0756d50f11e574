// Boots the player on a page that has one: reads the playback description the server put in
// the page, checks it against what this browser reports it plays (asking the server again
// when the stored report was missing or stale), then attaches the media and the features.
import * as caps from './caps.js';
import * as clock from './clock.js';
import * as controls from './controls.js';
import * as keys from './keys.js';
import * as previews from './previews.js';
import * as progress from './progress.js';
import { Player } from './player.js';
import * as source from './source.js';
import * as tracks from './tracks.js';

async function description(video, data) {
  const mine = caps.detect();
  if (data.caps === mine) return data;
  caps.store(mine);
  try {
    const response = await fetch(
      `/api/contents/${encodeURIComponent(video.dataset.content)}?caps=${encodeURIComponent(mine)}`,
      { credentials: 'same-origin' },
    );
    if (!response.ok) return data;
    const fresh = await response.json();
    if (!fresh.playback) return data;
    return { ...data, ...fresh.playback };
  } catch (_e) {
    return data;
  }
}

async function boot() {
  const video = document.getElementById('player');
  const holder = document.getElementById('player-data');
  if (!video || !holder) return;
  clock.install(video); // synchronously, before the first await: marking.js runs next
  const data = await description(video, JSON.parse(holder.textContent));
  const player = new Player(video, data);
  window.archivePlayer = player; // the page's one player, for features added later
  controls.install(player);
  keys.install(player);
  progress.install(player);
  source.attach(player, { lazy: !('autoplay' in video.dataset) && !!document.querySelector('[data-play]') });
  tracks.install(player);
  previews.install(player);
  for (const button of document.querySelectorAll('[data-play]')) {
    button.addEventListener('click', (e) => {
      e.preventDefault();
      const at = button.dataset.play;
      if (at === 'start') player.seek(player.rangeStart());
      else if (at) player.seek(parseFloat(at));
      player.wrap.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      player.play();
    });
  }
  window.addEventListener('pagehide', () => player.teardown());
  window.addEventListener('pageshow', (e) => { if (e.persisted) location.reload(); });
  if ('autoplay' in video.dataset) player.play();
  document.dispatchEvent(new CustomEvent('archive-player-ready', { detail: player }));
}

boot();
