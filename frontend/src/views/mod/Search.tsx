// #/mod/search: the forum search with the staff's status filter (visible, hidden, held).

import { Search } from "../search/Search";
import { ModFrame } from "./Frame";

export function ModSearch() {
  return (
    <ModFrame title="Search" section="search">
      {() => <Search base="/mod/search" staff titled={false} />}
    </ModFrame>
  );
}
