// #/bookmarks: the posts the member saved, newest first, each linking to its thread.

import { call, client, type Schemas } from "../../api/client";
import { me } from "../../app/session";
import { useStore } from "../../app/store";
import { CursorTable } from "../../components/CursorTable";
import { PageTitle } from "../../components/PageTitle";
import { TimeAgo } from "../../components/TimeAgo";
import { SignInPrompt } from "../../components/ViewError";

export function Bookmarks() {
  const member = useStore(me);
  return (
    <div class="card" data-testid="bookmarks-view">
      <PageTitle title="Bookmarks" />
      {!member ? <SignInPrompt text="to see your bookmarks." /> : (
        <CursorTable<Schemas["BookmarkedPost"], number>
          caption="Your bookmarked posts"
          testid="bookmarks"
          empty="You have not bookmarked any post yet. Use Bookmark on a post to find it here."
          rowKey={(row) => row.id}
          load={(before) => call(client.GET("/api/me/bookmarks", {
            params: { query: before === null ? {} : { before } },
          }))}
          columns={[
            { title: "Post", cell: (row) => (
              <a href={`#/t/${row.thread_id}`} data-testid="bookmark-link">{row.thread_title}</a>
            ) },
            { title: "By", cell: (row) => (
              <a href={`#/u/${encodeURIComponent(row.post.author.handle)}`}>@{row.post.author.handle}</a>
            ) },
            { title: "Saved", cell: (row) => <TimeAgo iso={row.created_at} /> },
          ]}
        />
      )}
    </div>
  );
}
